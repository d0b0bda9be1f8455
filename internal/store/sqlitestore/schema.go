package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNewerSchema means the file was written by a newer samlflex whose
// schema this one does not know; writing to it could corrupt what the
// newer version relies on.
var ErrNewerSchema = errors.New("the data file was written by a newer samlflex")

// schema holds the statements that bring the file from version i to i+1.
// Append only: a released entry never changes, because files in the field
// have already run it.
var schema = []string{
	// 1: accounts and one-time assertion IDs. accounts.version repeats the
	// version inside body so that Put's condition is a plain column
	// comparison. Keys sort with BINARY collation (byte order), which is
	// the order List promises for ASCII SIDs. The expires_at index keeps
	// Sweep from scanning every record.
	`CREATE TABLE accounts (
		sid     TEXT PRIMARY KEY NOT NULL,
		version INTEGER NOT NULL,
		body    TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE assertions (
		key        TEXT PRIMARY KEY NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX assertions_expires_at ON assertions (expires_at);`,
	// 2: the handles that have the file open (one row per Open, deleted
	// by Close; boot_id is the kernel's boot it was opened in) and meta,
	// which keeps replay_epoch: see epoch.go.
	`CREATE TABLE opens (
		id        TEXT PRIMARY KEY NOT NULL,
		boot_id   TEXT NOT NULL,
		opened_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE meta (
		name  TEXT PRIMARY KEY NOT NULL,
		value INTEGER NOT NULL
	) WITHOUT ROWID;`,
}

// SchemaVersion is the schema version this code writes.
func SchemaVersion() int { return len(schema) }

// migrate creates schema_version if needed and applies the missing schema
// steps, all in one IMMEDIATE transaction: two processes starting at once
// queue on the write lock, and the second finds the work done.
func (s *Store) migrate(ctx context.Context) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "begin schema upgrade", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	)`); err != nil {
		return s.wrap(ctx, "create schema_version", err)
	}
	cur, err := currentVersion(ctx, tx)
	if err != nil {
		return s.wrap(ctx, "read schema version", err)
	}
	if cur > len(schema) {
		return fmt.Errorf("%w (schema version %d; this samlflex knows up to %d): upgrade samlflex", ErrNewerSchema, cur, len(schema))
	}
	for v := cur; v < len(schema); v++ {
		if _, err := tx.ExecContext(ctx, schema[v]); err != nil {
			return s.wrap(ctx, fmt.Sprintf("schema step %d", v+1), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v+1); err != nil {
			return s.wrap(ctx, "record schema version", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "commit schema upgrade", err)
	}
	return nil
}

func currentVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}
