package boltmigrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// MigratedSuffix is appended to the bbolt file's name once its content is
// in the SQLite file.
const MigratedSuffix = ".migrated"

// tmpSuffix names the SQLite file while it is being written.
const tmpSuffix = ".migrating"

// ErrTargetExists means the SQLite file already exists: the directory was
// migrated already (or set up by a newer samlflex), and merging the two
// could resurrect an old version of an account.
var ErrTargetExists = errors.New("the SQLite store already exists")

// Result says what a migration did, for the log and the terminal.
type Result struct {
	Accounts   int    // accounts copied
	Assertions int    // unexpired assertion records copied
	Expired    int    // expired assertion records left behind
	MovedTo    string // where the bbolt file now is
}

// Migrate copies the bbolt store at boltPath into a new SQLite store at
// sqlitePath and renames the bbolt file to boltPath+MigratedSuffix. now
// decides which assertion records have expired.
//
// It holds bbolt's exclusive lock throughout: an old samlflex still running
// on the file makes it fail with boltstore.ErrInUse (before anything
// changes) instead of copying a store that is still being written, and of
// two new processes starting at once, the second waits and then finds
// ErrTargetExists.
func Migrate(ctx context.Context, boltPath, sqlitePath string, now time.Time) (Result, error) {
	src, err := boltstore.Open(boltPath, boltstore.Options{})
	if err != nil {
		return Result{}, err
	}
	// The bbolt file is only read; closing it twice (here and below) is
	// allowed.
	defer func() { _ = src.Close() }()
	if _, err := os.Lstat(sqlitePath); err == nil {
		return Result{}, fmt.Errorf("%w: %s", ErrTargetExists, sqlitePath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return Result{}, err
	}

	accounts, err := src.List(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("reading accounts from %s: %w", boltPath, err)
	}
	var res Result
	var records []sqlitestore.Record
	err = src.ForEachAssertion(ctx, func(key string, exp time.Time) error {
		// Same rule as MarkUsed: a record whose expiry is not after now
		// counts as absent.
		if !exp.After(now) {
			res.Expired++
			return nil
		}
		records = append(records, sqlitestore.Record{Key: key, ExpiresAt: exp})
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("reading assertion records from %s: %w", boltPath, err)
	}

	tmp := sqlitePath + tmpSuffix
	if err := removeSQLite(tmp); err != nil {
		return Result{}, err
	}
	if err := write(ctx, tmp, accounts, records); err != nil {
		_ = removeSQLite(tmp)
		return Result{}, err
	}
	if err := os.Rename(tmp, sqlitePath); err != nil {
		_ = removeSQLite(tmp)
		return Result{}, err
	}
	if err := syncDir(filepath.Dir(sqlitePath)); err != nil {
		return Result{}, err
	}
	if err := src.Close(); err != nil {
		return Result{}, err
	}
	moved, err := moveAside(boltPath, now)
	if err != nil {
		// The SQLite store is complete and will be used; the bbolt file
		// staying in place is harmless (it is ignored from now on).
		return Result{}, fmt.Errorf("the store was copied to %s, but renaming %s failed: %w", sqlitePath, boltPath, err)
	}
	res.Accounts, res.Assertions, res.MovedTo = len(accounts), len(records), moved
	return res, nil
}

// write creates the SQLite store at path with the data, in one
// transaction, and closes it: the last close checkpoints the WAL into the
// main file, so that the file alone can be renamed.
func write(ctx context.Context, path string, accounts []samlflex.Account, records []sqlitestore.Record) error {
	dst, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		return err
	}
	if err := dst.Import(ctx, accounts, records); err != nil {
		_ = dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	if _, err := os.Lstat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s-wal remained after closing the new store; not renaming an incomplete file", path)
	}
	return nil
}

// removeSQLite removes a leftover temporary store (from a migration that
// crashed) with its WAL and shared-memory files.
func removeSQLite(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// moveAside renames path to path.migrated, or, if an earlier migration left
// one, to path.migrated-TIMESTAMP: never overwrite a kept copy.
func moveAside(path string, now time.Time) (string, error) {
	to := path + MigratedSuffix
	if _, err := os.Lstat(to); err == nil {
		to += "-" + now.UTC().Format("20060102T150405Z")
	}
	if err := os.Rename(path, to); err != nil {
		return "", err
	}
	return to, syncDir(filepath.Dir(path))
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
