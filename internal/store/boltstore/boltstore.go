package boltstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
)

// ErrInUse means another process holds the data file open. bbolt's own
// error for this is a bare "timeout", which tells an admin nothing.
var ErrInUse = errors.New("data directory is in use by another samlflex process")

// DefaultLockTimeout is how long Open waits for the file lock. bbolt waits
// forever by default, so a second `samlflex serve` would hang silently.
const DefaultLockTimeout = time.Second

var (
	bucketAccounts   = []byte("accounts")
	bucketAssertions = []byte("assertions")
)

var _ store.Store = (*Store)(nil)

// Options configures Open. The zero value is valid: no background sweep,
// one-second lock timeout.
type Options struct {
	// LockTimeout bounds the wait for another process's lock on the file
	// (0 means DefaultLockTimeout).
	LockTimeout time.Duration
	// SweepEvery, if positive, deletes expired assertion records at this
	// interval until Close, with the clock Now and the logger Logger as
	// storeutil.Background.Init fills them in (sqlitestore.Options says
	// the same at more length).
	SweepEvery time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// Store is a store.Store in one bbolt file. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
	bg storeutil.Background // the sweeper and Close

	// afterSweep, when set by a test, is called after each background
	// sweep, so the test can wait for it instead of sleeping.
	afterSweep func(n int, err error)
}

// Open opens (creating if needed) the store file at path with mode 0600,
// creating its directory with mode 0700 if missing.
func Open(path string, opts Options) (*Store, error) {
	if err := storeutil.MakeDir("boltstore", path); err != nil {
		return nil, err
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s stayed locked for %s; stop the other process or use another data directory", ErrInUse, path, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAccounts, bucketAssertions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: init %s: %w", path, err)
	}
	s := &Store{db: db}
	s.bg.Init(opts.Now, opts.Logger)
	if opts.SweepEvery > 0 {
		tk := time.NewTicker(opts.SweepEvery)
		s.startSweeper(tk.C, tk.Stop)
	}
	return s, nil
}

// Close stops the sweeper (waiting for a running sweep to finish) and
// closes the file, releasing the lock. Later calls return the first result.
func (s *Store) Close() error {
	return s.bg.Close(s.db.Close)
}

// ctxErr wraps a context's error so that errors.Is(err, context.Canceled)
// holds. bbolt has no context support, so methods check before starting
// and again inside write transactions, after waiting for the writer lock.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	return nil
}
