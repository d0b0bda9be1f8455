package httpapi

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// retryAfter is the Retry-After of a server_busy answer, in seconds: the
// queue drains in well under that when the burst is legitimate.
const retryAfter = "2"

// limiter bounds the validations in flight. A validation parses up to a
// few hundred kilobytes of XML and may cost a lot of CPU and memory before
// it is refused; without a bound, a burst of hostile posts takes the
// memory of `serve` and slows every real login. Requests beyond the limit
// wait in a bounded queue for at most a short deadline, then get 503
// server_busy with Retry-After. A nil *limiter (Lambda: one request per
// instance) admits everything.
type limiter struct {
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64
	// inFlight and peak let tests check the bound.
	inFlight atomic.Int64
	peak     atomic.Int64
}

func newLimiter(max, queue int, wait time.Duration) *limiter {
	if max <= 0 {
		return nil
	}
	return &limiter{slots: make(chan struct{}, max), queue: int64(queue), wait: wait}
}

// acquire returns a release func, or a server_busy error when the queue is
// full or the wait ran out.
func (l *limiter) acquire(ctx context.Context) (func(), error) {
	if l == nil {
		return func() {}, nil
	}
	select {
	case l.slots <- struct{}{}:
		return l.admitted(), nil
	default:
	}
	if n := l.waiting.Add(1); n > l.queue {
		l.waiting.Add(-1)
		return nil, samlflex.Errorf(samlflex.CodeServerBusy, "%d validations in flight and %d waiting", cap(l.slots), l.queue)
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return l.admitted(), nil
	case <-t.C:
		return nil, samlflex.Errorf(samlflex.CodeServerBusy, "no validation slot within %s", l.wait)
	case <-ctx.Done():
		return nil, samlflex.Errorf(samlflex.CodeServerBusy, "client gone while waiting: %v", ctx.Err())
	}
}

func (l *limiter) admitted() func() {
	n := l.inFlight.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			l.inFlight.Add(-1)
			<-l.slots
		}
	}
}
