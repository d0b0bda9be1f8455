package storeutil

import (
	"log/slog"
	"time"
)

// Sweeper runs a store's Sweep in the background. Without it a store's
// assertion records only grow: MarkUsed already treats expired records as
// absent, so sweeping is about size, not correctness.
type Sweeper struct {
	stop chan struct{} // closed by Stop to end the loop
	done chan struct{} // closed by the loop when it returns
}

// StartSweeper calls sweep on every tick until Stop, logging failures to
// logger (they are retried at the next tick) and then passing each result
// to after, if not nil (tests wait on it instead of sleeping). stopTick
// releases the ticker when the loop ends.
func StartSweeper(tick <-chan time.Time, stopTick func(), sweep func() (int, error), logger *slog.Logger, after func(n int, err error)) *Sweeper {
	w := &Sweeper{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer stopTick()
		for {
			select {
			case <-w.stop:
				return
			case <-tick:
				n, err := sweep()
				if err != nil {
					logger.Error("sweeping expired assertion IDs failed", "err", err)
				}
				if after != nil {
					after(n, err)
				}
			}
		}
	}()
	return w
}

// Stop ends the loop and waits for a running sweep to finish. A nil
// Sweeper (none was started) is already stopped. Call it once.
func (w *Sweeper) Stop() {
	if w == nil {
		return
	}
	close(w.stop)
	<-w.done
}

// Defaults fills in a store's optional clock and logger: nil now means
// time.Now, a nil logger discards.
func Defaults(now func() time.Time, logger *slog.Logger) (func() time.Time, *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return now, logger
}
