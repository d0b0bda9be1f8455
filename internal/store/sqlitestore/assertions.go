package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
)

// MarkUsed implements store.Assertions as one conditional upsert: insert
// the key, or, if it exists, overwrite it only when its stored expiry is
// not after now. SQLite evaluates the condition under the write lock, so of
// concurrent calls with one key (from any process) exactly one changes a
// row; the others change none and get ErrAlreadyExists. The stored expiry
// decides, not the caller's, so a replayed copy claiming a later expiry is
// still caught. The commit is fsynced.
func (s *Store) MarkUsed(ctx context.Context, key string, expiresAt, now time.Time) error {
	return s.markUsed(ctx, s.markSynced, key, expiresAt, now)
}

// MarkUsedDeferred implements store.Assertions: MarkUsed without the fsync
// (on the NORMAL pool), unless the handle has no boot ID (epoch.go).
func (s *Store) MarkUsedDeferred(ctx context.Context, key string, expiresAt, now time.Time) error {
	// Close waits for this call, so that no unsynced commit can follow
	// the fsynced unregister.
	s.closing.RLock()
	defer s.closing.RUnlock()
	if s.closed {
		return fmt.Errorf("sqlitestore: mark used %q: %w", key, errClosed)
	}
	return s.markUsed(ctx, s.markDeferred, key, expiresAt, now)
}

// errClosed is the error of a MarkUsedDeferred after Close.
var errClosed = errors.New("store closed")

func (s *Store) markUsed(ctx context.Context, stmt *sql.Stmt, key string, expiresAt, now time.Time) error {
	if key == "" {
		return errors.New("sqlitestore: mark used: empty key")
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	// An expired record of the same key is overwritten: the ID may be
	// used again once its first use can no longer be replayed.
	res, err := stmt.ExecContext(ctx, key, storeutil.ExpiryNanos(expiresAt), now.UnixNano())
	if err != nil {
		return s.wrap(ctx, fmt.Sprintf("mark used %q", key), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(ctx, fmt.Sprintf("mark used %q", key), err)
	}
	if n == 0 {
		return store.ErrAlreadyExists
	}
	return nil
}

// Sweep deletes the assertion records that have expired at now and returns
// how many it deleted. MarkUsed already ignores expired records; Sweep only
// keeps the file from growing. Several processes sweeping at once is
// harmless: each deletes what is left.
func (s *Store) Sweep(now time.Time) (int, error) {
	ctx := context.Background()
	res, err := s.db.ExecContext(ctx, `DELETE FROM assertions WHERE expires_at <= ?`, now.UnixNano())
	if err != nil {
		return 0, s.wrap(ctx, "sweep", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(ctx, "sweep", err)
	}
	return int(n), nil
}

// startSweeper runs Sweep on every tick until Close. stopTick releases the
// ticker. Tests pass their own tick channel and set afterSweep first.
func (s *Store) startSweeper(tick <-chan time.Time, stopTick func()) {
	s.bg.Start(tick, stopTick, s.Sweep, s.afterSweep)
}
