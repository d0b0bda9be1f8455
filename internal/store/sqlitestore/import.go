package sqlitestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/samlflex/samlflex/internal/store/storeutil"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Record is one used assertion key and when its record expires.
type Record struct {
	Key       string
	ExpiresAt time.Time
}

// ErrNotEmpty means Import was pointed at a store that already holds data;
// merging two stores could silently pick one of two versions of an account.
var ErrNotEmpty = errors.New("the target store is not empty")

// Import copies accounts (with their Version and UpdatedAt unchanged, so
// that an admin's next `--expect-version` still matches) and assertion
// records into an empty store, in one transaction: after a crash the store
// holds all of them or none.
func (s *Store) Import(ctx context.Context, accounts []samlflex.Account, records []Record) (err error) {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "import", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM assertions)`).Scan(&n); err != nil {
		return s.wrap(ctx, "import", err)
	}
	if n > 0 {
		return fmt.Errorf("sqlitestore: import into %s: %w (%d rows)", s.path, ErrNotEmpty, n)
	}
	for _, a := range accounts {
		if a.AccountSID == "" || a.Version < 1 {
			return fmt.Errorf("sqlitestore: import: account %q has version %d", a.AccountSID, a.Version)
		}
		a.UpdatedAt = a.UpdatedAt.UTC()
		body, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("sqlitestore: import %s: %w", a.AccountSID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (sid, version, body) VALUES (?, ?, ?)`,
			a.AccountSID, a.Version, string(body)); err != nil {
			return s.wrap(ctx, "import "+a.AccountSID, err)
		}
	}
	for _, r := range records {
		if r.Key == "" {
			return errors.New("sqlitestore: import: empty assertion key")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assertions (key, expires_at) VALUES (?, ?)`,
			r.Key, storeutil.ExpiryNanos(r.ExpiresAt)); err != nil {
			return s.wrap(ctx, fmt.Sprintf("import assertion %q", r.Key), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "import", err)
	}
	return nil
}
