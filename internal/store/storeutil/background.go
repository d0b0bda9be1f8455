package storeutil

import (
	"log/slog"
	"sync"
	"time"
)

// Background is what a file store (sqlitestore, boltstore) runs beside
// its calls: the sweep of expired assertion records, and a Close that
// stops it before closing the file. Without a sweep the records only grow:
// MarkUsed already treats expired records as absent, so sweeping is about
// file size, not correctness. The zero value has no sweeper; call Init
// before Start.
type Background struct {
	now    func() time.Time
	logger *slog.Logger

	stop chan struct{} // closed by Close to end the sweeper; nil if none
	done chan struct{} // closed by the sweeper when it returns

	closeOnce sync.Once
	closeErr  error
}

// Init sets the sweeper's clock and logger: nil now means time.Now (store
// methods take their time as an argument instead), a nil logger discards
// sweep failures (they are retried at the next tick).
func (b *Background) Init(now func() time.Time, logger *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b.now, b.logger = now, logger
}

// Start calls sweep with the clock's time on every tick until Close,
// logging failures and then passing each result to after, if not nil
// (tests wait on it instead of sleeping). stopTick releases the ticker
// when the loop ends. Call it at most once.
func (b *Background) Start(tick <-chan time.Time, stopTick func(), sweep func(now time.Time) (int, error), after func(n int, err error)) {
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(b.done)
		defer stopTick()
		for {
			select {
			case <-b.stop:
				return
			case <-tick:
				n, err := sweep(b.now())
				if err != nil {
					b.logger.Error("sweeping expired assertion IDs failed", "err", err)
				}
				if after != nil {
					after(n, err)
				}
			}
		}
	}()
}

// Close stops the sweeper, waiting for a running sweep to finish, and then
// calls closeFile. Later calls return the first result.
func (b *Background) Close(closeFile func() error) error {
	b.closeOnce.Do(func() {
		if b.stop != nil {
			close(b.stop)
			<-b.done
		}
		b.closeErr = closeFile()
	})
	return b.closeErr
}
