package smfake

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// PausePoint says where a paused request waits.
type PausePoint int

const (
	// BeforeApply holds the request before the fake looks at it: to the
	// other clients it has not happened yet.
	BeforeApply PausePoint = iota
	// AfterApply applies the request and holds its answer: the change is
	// visible to other clients while the caller still waits, the window in
	// which a concurrent invocation sees half of a step.
	AfterApply
)

// String names the point in test names.
func (p PausePoint) String() string {
	switch p {
	case BeforeApply:
		return "before-apply"
	case AfterApply:
		return "after-apply"
	}
	return fmt.Sprintf("PausePoint(%d)", int(p))
}

// Pause holds one request until Release, so that a test can run another
// client in a chosen window of the first: a deterministic interleaving
// instead of a hoped-for one. Make it with Server.Pause.
type Pause struct {
	op       string
	point    PausePoint
	skip     int
	reached  chan struct{}
	released chan struct{}
	once     sync.Once
}

// Pause makes the request for op (never ""), after `skip` matching requests
// have passed, wait at point until Release. Faults and the down switch
// apply when the request is applied, after a BeforeApply wait. The pause is
// released when the test ends, so a forgotten Release cannot hang the
// server's Close; a caller that gives up (context canceled) also stops
// waiting.
func (s *Server) Pause(op string, point PausePoint, skip int) *Pause {
	if op == "" {
		s.tb.Fatal("smfake: Pause needs an operation")
	}
	p := &Pause{op: op, point: point, skip: skip, reached: make(chan struct{}), released: make(chan struct{})}
	s.mu.Lock()
	s.pauses = append(s.pauses, p)
	s.mu.Unlock()
	s.tb.Cleanup(p.Release) // runs before the server's Close, registered earlier
	return p
}

// Reached is closed when the paused request has arrived (BeforeApply) or
// has been applied (AfterApply) and waits.
func (p *Pause) Reached() <-chan struct{} { return p.reached }

// Release lets the request go on. It may be called more than once.
func (p *Pause) Release() { p.once.Do(func() { close(p.released) }) }

// takePause returns the pause for this request and forgets it, or nil.
// Called with s.mu held.
func (s *Server) takePause(op string) *Pause {
	for i, p := range s.pauses {
		if p.op != op {
			continue
		}
		if p.skip > 0 {
			p.skip--
			return nil
		}
		s.pauses = slices.Delete(s.pauses, i, i+1)
		return p
	}
	return nil
}

// hold signals arrival and waits, without s.mu, for Release.
func (p *Pause) hold(ctx context.Context) {
	close(p.reached)
	select {
	case <-p.released:
	case <-ctx.Done():
	}
}
