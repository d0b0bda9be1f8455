package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
)

// DefaultBusyTimeout is how long a statement waits for another
// connection's (or process's) write lock before failing with
// store.ErrUnavailable. Writes take milliseconds; seconds of waiting mean
// something is stuck.
const DefaultBusyTimeout = 5 * time.Second

var _ store.Store = (*Store)(nil)

// Options configures Open. The zero value is valid: no background sweep,
// DefaultBusyTimeout.
type Options struct {
	// BusyTimeout bounds the wait for the write lock (0 means
	// DefaultBusyTimeout).
	BusyTimeout time.Duration
	// SweepEvery, if positive, starts a goroutine that deletes expired
	// assertion records at this interval, until Close. Without it the
	// assertions table only grows (expired records are still reused by
	// MarkUsed, so this is about file size, not correctness).
	SweepEvery time.Duration
	// Now is the sweeper's clock; nil means time.Now. Store methods take
	// their time as an argument instead.
	Now func() time.Time
	// Logger receives background sweep failures; nil discards them (they
	// are retried at the next interval).
	Logger *slog.Logger
	// BootID returns the kernel's boot ID (nil: ReadBootID). If it fails,
	// deferred used-ID records are fsynced like every other commit
	// (epoch.go).
	BootID func() (string, error)
}

// Store is a store.Store in one SQLite file. It is safe for concurrent use,
// and other processes may open the same file at the same time.
type Store struct {
	db   *sql.DB // synchronous=FULL: every commit is fsynced
	path string
	// fast commits without an fsync (synchronous=NORMAL): the deferred
	// used-ID inserts, kept safe by the replay epoch (epoch.go). nil when
	// there is no boot ID; markDeferred is then prepared on db.
	fast *sql.DB
	// The statements of every login, prepared once: SQLite's parse and
	// plan cost about as much as executing them.
	getAccount, markSynced, markDeferred *sql.Stmt
	// closing lets Close wait for the deferred inserts in flight; closed
	// refuses later ones.
	closing sync.RWMutex
	closed  bool
	// decoded maps an Account SID to its last read decodedAccount.
	decoded sync.Map
	// openID is this handle's row in table opens ("" without fast).
	openID    string
	epoch     int64
	crashSeen bool
	bg        storeutil.Background // the sweeper and Close

	// afterSweep, when set by a test, is called after each background
	// sweep, so the test can wait for it instead of sleeping.
	afterSweep func(n int, err error)
}

// Open opens (creating if needed) the store file at path with mode 0600,
// creating its directory with mode 0700 if missing, and brings its schema
// up to date.
func Open(path string, opts Options) (*Store, error) {
	if err := storeutil.MakeDir("sqlitestore", path); err != nil {
		return nil, err
	}
	// SQLite creates the file with the process umask; create it first so
	// that other local users can neither read which IdPs an account trusts
	// nor rewrite it. The -wal and -shm files SQLite adds later copy the
	// main file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	db, err := sql.Open("sqlite", dsn(path, busy, "FULL"))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(context.Background()); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlitestore: %s: %w", path, err)
	}
	now, bootID := time.Now, opts.BootID
	if opts.Now != nil {
		now = opts.Now
	}
	if bootID == nil {
		bootID = ReadBootID
	}
	boot, err := bootID()
	if err != nil {
		boot = ""
	}
	if err := s.register(context.Background(), boot, now()); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlitestore: %s: %w", path, err)
	}
	if boot != "" {
		if s.fast, err = sql.Open("sqlite", dsn(path, busy, "NORMAL")); err != nil {
			return nil, errors.Join(fmt.Errorf("sqlitestore: open %s: %w", path, err), s.unregister(), db.Close())
		}
	}
	marks := db
	if s.fast != nil {
		marks = s.fast
	}
	const mark = `INSERT INTO assertions (key, expires_at) VALUES (?, ?)
		 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
		 WHERE assertions.expires_at <= ?`
	if s.getAccount, err = db.Prepare(`SELECT body FROM accounts WHERE sid = ?`); err == nil {
		if s.markSynced, err = db.Prepare(mark); err == nil {
			s.markDeferred, err = marks.Prepare(mark)
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitestore: %s: prepare: %w", path, err), s.closeFiles())
	}
	s.bg.Init(opts.Now, opts.Logger)
	if opts.SweepEvery > 0 {
		tk := time.NewTicker(opts.SweepEvery)
		s.startSweeper(tk.C, tk.Stop)
	}
	return s, nil
}

// dsn sets, on every connection of the pool: busy_timeout first (so the
// others wait for a lock instead of failing), WAL (several processes),
// synchronous (FULL, or NORMAL for the used-ID pool: see doc.go) and
// BEGIN IMMEDIATE for transactions.
func dsn(path string, busy time.Duration, synchronous string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Path is the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close stops the sweeper (waiting for a running sweep to finish), then
// the deferred used-ID writes (waiting for those in progress; later ones
// fail), deletes this handle's row in opens with an fsynced commit
// (epoch.go), and closes the database; the last connection to close
// checkpoints the WAL into the main file. Later calls return the first
// result.
func (s *Store) Close() error {
	return s.bg.Close(s.closeFiles)
}

func (s *Store) closeFiles() error {
	s.closing.Lock()
	s.closed = true
	s.closing.Unlock()
	var errs []error
	if s.fast != nil {
		errs = append(errs, s.fast.Close())
	}
	errs = append(errs, s.unregister(), s.db.Close())
	return errors.Join(errs...)
}

// IntegrityCheck runs SQLite's own consistency check of the file (used by
// the crash tests and available to an admin tool); nil means "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return s.wrap(ctx, "integrity check", err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlitestore: integrity check: %s", res)
	}
	return nil
}

// ctxErr wraps a context's error so that errors.Is(err, context.Canceled)
// holds; methods check it first so that a cancelled call touches nothing.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	return nil
}

// wrap turns a driver error into one that callers can test: the context's
// error if the call was cancelled meanwhile (the driver's interrupt error
// does not say so), store.ErrUnavailable if the lock stayed busy past
// busy_timeout (another process holds it: retrying may work), else the
// error itself with what was being done.
func (s *Store) wrap(ctx context.Context, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("sqlitestore: %s: %w", what, cerr)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlitestore: %s: %w: the data file stayed locked by another process (%v)", what, store.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlitestore: %s: %w", what, err)
}
