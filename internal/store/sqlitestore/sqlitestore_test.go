package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest/sweeptest"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storetest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)

func open(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "samlflex.sqlite")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := open(t, Options{})
		return s
	})
}

// TestConformanceTwoHandles runs the suite against two handles on one file,
// alternating calls between them, as `serve` and `account put` do: a write
// through one must be seen, and its conditions enforced, through the other.
func TestConformanceTwoHandles(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		a, path := open(t, Options{})
		b, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return &twoHandles{h: [2]*Store{a, b}}
	})
}

// twoHandles sends each call to the next handle in turn.
type twoHandles struct {
	h [2]*Store
	n atomic.Uint64
}

func (s *twoHandles) next() *Store { return s.h[s.n.Add(1)%2] }

func (s *twoHandles) Get(ctx context.Context, sid string) (samlflex.Account, error) {
	return s.next().Get(ctx, sid)
}

func (s *twoHandles) Put(ctx context.Context, a samlflex.Account, v int64, now time.Time) (int64, error) {
	return s.next().Put(ctx, a, v, now)
}

func (s *twoHandles) List(ctx context.Context) ([]samlflex.Account, error) {
	return s.next().List(ctx)
}

func (s *twoHandles) Delete(ctx context.Context, sid string) error { return s.next().Delete(ctx, sid) }

func (s *twoHandles) MarkUsed(ctx context.Context, key string, exp, now time.Time) error {
	return s.next().MarkUsed(ctx, key, exp, now)
}

func (s *twoHandles) MarkUsedDeferred(ctx context.Context, key string, exp, now time.Time) error {
	return s.next().MarkUsedDeferred(ctx, key, exp, now)
}

func (s *twoHandles) ReplayEpoch() int64 { return max(s.h[0].ReplayEpoch(), s.h[1].ReplayEpoch()) }

func (s *twoHandles) Close() error { return errors.Join(s.h[0].Close(), s.h[1].Close()) }

func TestOpenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	defer s.Close()
	// A write creates the -wal file; it must be as private as the file.
	if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: "AC1"}, 0, t0); err != nil {
		t.Fatal(err)
	}
	storetest.CheckModes(t, map[string]os.FileMode{
		path:               0o600,
		path + "-wal":      0o600,
		filepath.Dir(path): 0o700,
	})
}

func TestOpenSettings(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{BusyTimeout: 1234 * time.Millisecond, BootID: bootID("boot-a")})
	defer s.Close()
	if s.Durable() {
		t.Fatal("with a boot ID, deferred used-ID records should skip the fsync")
	}
	// Several connections, so that the settings are checked on a pooled
	// one too, not only the first. The used-ID pool commits without an
	// fsync (NORMAL); everything else, the accounts first, with one.
	for _, pool := range []struct {
		db   *sql.DB
		sync string
	}{{s.db, "2"}, {s.fast, "1"}} {
		pool.db.SetMaxIdleConns(3)
		for i := range 3 {
			for _, tc := range []struct{ pragma, want string }{
				{"journal_mode", "wal"},
				{"synchronous", pool.sync},
				{"busy_timeout", "1234"},
			} {
				var got string
				if err := pool.db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("conn %d: PRAGMA %s = %s, want %s", i, tc.pragma, got, tc.want)
				}
			}
		}
	}
}

// bootID is an Options.BootID that reports id.
func bootID(id string) func() (string, error) {
	return func() (string, error) { return id, nil }
}

// abandon closes s as a machine that goes down does: without Close's
// unregister (and so without its fsync).
func (s *Store) abandon() error { return errors.Join(s.fast.Close(), s.db.Close()) }

// TestReplayEpoch: the epoch moves on exactly when a handle of an earlier
// boot was never closed (the machine went down with the file open), by
// one each time whatever the clock says, durably and for every later
// handle; a clean Close or a killed process (same boot) moves it not.
func TestReplayEpoch(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "samlflex.sqlite")
	reopen := func(boot string) *Store {
		t.Helper()
		s, err := Open(path, Options{BootID: bootID(boot)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	last := int64(0)
	epoch := func(s *Store, want int64, what string) {
		t.Helper()
		if got := s.ReplayEpoch(); got != want {
			t.Fatalf("%s: epoch %d, want %d", what, got, want)
		}
		if s.CrashSeen() != (want != last) {
			t.Fatalf("%s: CrashSeen %v, epoch %d after %d", what, s.CrashSeen(), want, last)
		}
		last = want
	}
	rows := func(s *Store) int {
		t.Helper()
		var n int
		if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM opens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	s := reopen("boot-a")
	epoch(s, 0, "new file")
	if err := s.MarkUsedDeferred(t.Context(), "k1", t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen("boot-b")
	epoch(s, 0, "reboot after a clean Close")
	if n := rows(s); n != 1 {
		t.Fatalf("%d rows in opens, want this handle's only", n)
	}
	// A killed process leaves its row; in the same boot its commits are in
	// the page cache, so nothing is missing.
	if err := s.abandon(); err != nil {
		t.Fatal(err)
	}
	s = reopen("boot-b")
	epoch(s, 0, "killed process, same boot")
	if err := s.MarkUsed(t.Context(), "k1", t0.Add(time.Hour), t0); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("k1 after reopen: %v", err)
	}
	// Two handles, one closed cleanly, one open when the machine goes
	// down: the next boot's first Open moves the epoch.
	other := reopen("boot-b")
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.abandon(); err != nil {
		t.Fatal(err)
	}
	s = reopen("boot-c")
	epoch(s, 1, "handles of boot-b never closed")
	if n := rows(s); n != 1 {
		t.Fatalf("%d rows in opens after the epoch moved, want this handle's only", n)
	}
	// Every later handle, in any process, keeps it.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen("boot-d")
	epoch(s, 1, "later handle after a clean Close")
	// Another crash moves it again.
	if err := s.abandon(); err != nil {
		t.Fatal(err)
	}
	s = reopen("boot-e")
	epoch(s, 2, "second crash")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseWaitsForDeferredMarks: Close waits for a deferred insert in
// flight (here, one waiting for the write lock another handle holds), and
// one that starts after Close fails: an unsynced commit after the fsynced
// unregister would be lost in a crash with no handle left to tell.
func TestCloseWaitsForDeferredMarks(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{BootID: bootID("boot-a")})
	locker, err := Open(path, Options{BootID: bootID("boot-a")})
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	tx, err := locker.db.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	marked := make(chan error, 1)
	go func() { marked <- s.MarkUsedDeferred(context.Background(), "in-flight", t0.Add(time.Hour), t0) }()
	// Wait until the insert is waiting for the lock (it holds closing).
	for s.closing.TryLock() {
		s.closing.Unlock()
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an insert was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-marked; err != nil {
		t.Fatalf("in-flight insert: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsedDeferred(t.Context(), "late", t0.Add(time.Hour), t0); !errors.Is(err, errClosed) {
		t.Fatalf("insert after Close: %v", err)
	}
	var n int
	if err := locker.db.QueryRowContext(t.Context(), `SELECT count(*) FROM opens`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("opens after Close: %d rows (want the locker's), %v", n, err)
	}
}

// TestMarkUsedIsSynced: MarkUsed commits on the fsynced pool and only
// MarkUsedDeferred on the other: with the unsynced pool gone, the first
// still works and the second fails.
func TestMarkUsedIsSynced(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{BootID: bootID("boot-a")})
	defer s.Close()
	if err := s.fast.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(t.Context(), "synced", t0.Add(time.Hour), t0); err != nil {
		t.Fatalf("MarkUsed without the unsynced pool: %v", err)
	}
	if err := s.MarkUsedDeferred(t.Context(), "deferred", t0.Add(time.Hour), t0); err == nil {
		t.Fatal("MarkUsedDeferred did not use the unsynced pool")
	}
}

// TestNoBootIDFsyncsEveryCommit: without a boot ID a crash could not be
// detected, so deferred used-ID records are fsynced like the rest and no
// handle is registered; and since this process cannot tell whether a
// registered handle of another process (which skips the fsync) is from an
// earlier boot, it moves the epoch when it finds one, leaving that handle
// registered.
func TestNoBootIDFsyncsEveryCommit(t *testing.T) {
	t.Parallel()
	noBoot := func() (string, error) { return "", errors.New("no /proc") }
	s, path := open(t, Options{BootID: noBoot})
	if !s.Durable() || s.fast != nil || s.ReplayEpoch() != 0 {
		t.Fatalf("durable %v, epoch %d", s.Durable(), s.ReplayEpoch())
	}
	if err := s.MarkUsedDeferred(t.Context(), "k", t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	countOpens := func(s *Store) int {
		t.Helper()
		var n int
		if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM opens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countOpens(s); n != 0 {
		t.Fatalf("opens: %d rows", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fast, err := Open(path, Options{BootID: bootID("boot-a")})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	s, err = Open(path, Options{BootID: noBoot})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e := s.ReplayEpoch(); e != 1 {
		t.Fatalf("no boot ID beside a registered handle: epoch %d, want 1", e)
	}
	if n := countOpens(s); n != 1 {
		t.Fatalf("opens: %d rows, want the running handle's", n)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.sqlite")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"EmptyPath", ""},
		{"ParentIsAFile", filepath.Join(notDir, "samlflex.sqlite")},
		{"NotADatabase", garbage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if s, err := Open(tc.path, Options{}); err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
		})
	}
}

// TestNewerSchemaRefused: a file from a newer samlflex is left alone.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	if _, err := s.db.ExecContext(t.Context(), `INSERT INTO schema_version (version) VALUES (?)`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, Options{})
	if err == nil {
		again.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade samlflex") {
		t.Errorf("error %v: want ErrNewerSchema saying to upgrade", err)
	}
}

// TestSchemaRecordedOnce: opening an up-to-date file again (or from a
// second process) does not re-run or re-record the schema steps.
func TestSchemaRecordedOnce(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	var n, maxV int
	if err := s3.db.QueryRowContext(t.Context(), `SELECT count(*), max(version) FROM schema_version`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() || maxV != SchemaVersion() {
		t.Fatalf("schema_version has %d rows, max %d; want %d, %d", n, maxV, SchemaVersion(), SchemaVersion())
	}
}

// TestBusyIsUnavailable: a write lock held past busy_timeout (a stuck
// process) is store.ErrUnavailable, which the CLI words as "try again",
// and the blocked write wrote nothing.
func TestBusyIsUnavailable(t *testing.T) {
	t.Parallel()
	holder, path := open(t, Options{})
	defer holder.Close()
	s, err := Open(path, Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tx, err := holder.db.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.MarkUsed(t.Context(), "k", t0.Add(time.Hour), t0)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("MarkUsed under a held lock: %v, want ErrUnavailable", err)
	}
	if errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("busy error reads as a replay: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("waited %s with a 50ms busy timeout", d)
	}
	if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: "AC1"}, 0, t0); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Put under a held lock: %v, want ErrUnavailable", err)
	}
	// Reads do not wait for writers in WAL mode.
	if _, err := s.List(t.Context()); err != nil {
		t.Fatalf("List under a held write lock: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(t.Context(), "k", t0.Add(time.Hour), t0); err != nil {
		t.Fatalf("MarkUsed after the lock was released: %v (the busy call must not have recorded it)", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	storetest.ReopenKeepsData(t, s, func(t *testing.T) {
		// A clean close checkpoints the WAL into the file and removes it.
		if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("-wal after Close: %v", err)
		}
	}, func() (store.Store, error) { return Open(path, Options{}) })
}

func TestCorruptAccountIsAnError(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{})
	defer s.Close()
	if _, err := s.db.ExecContext(t.Context(), `INSERT INTO accounts (sid, version, body) VALUES ('AC1', 1, '{not json')`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "AC1"); err == nil || !strings.Contains(err.Error(), "corrupt") || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a corrupt row: %v", err)
	}
	if _, err := s.List(t.Context()); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("List with a corrupt row: %v", err)
	}
}

func TestPutRejectsBadInput(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{})
	defer s.Close()
	if _, err := s.Put(t.Context(), samlflex.Account{}, 0, t0); err == nil {
		t.Error("Put with an empty SID succeeded")
	}
	if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: "AC1"}, -1, t0); err == nil {
		t.Error("Put with a negative version succeeded")
	}
	if err := s.MarkUsed(t.Context(), "", t0, t0); err == nil {
		t.Error("MarkUsed with an empty key succeeded")
	}
}

func TestEmbeddedStore(t *testing.T) {
	t.Parallel()
	sweeptest.Run(t, sweeptest.Backend{
		Open: func(t *testing.T, now func() time.Time, every time.Duration) sweeptest.Store {
			s, _ := open(t, Options{Now: now, SweepEvery: every})
			return s
		},
		Keys: func(t *testing.T, s sweeptest.Store) []string { return keys(t, s.(*Store)) },
		StartSweeper: func(s sweeptest.Store, tick <-chan time.Time, after func(int, error), stopped func()) {
			st := s.(*Store)
			st.afterSweep = after
			st.startSweeper(tick, stopped)
		},
	})
}

// keys lists the assertion keys in the file, in order.
func keys(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT key FROM assertions ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGetReturnsOwnCopy: Get keeps the last decoded account to skip
// decoding an unchanged one; what it returns must still be the caller's
// own (changing it does not change the next Get), and a change by another
// handle (another process) is read at once.
func TestGetReturnsOwnCopy(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	defer s.Close()
	acct := samlflex.Account{AccountSID: "AC1", IdPCertificates: []string{"c1"}, DefaultRoles: []string{"agent"},
		Flex: &samlflex.FlexConnection{InstanceSID: "GO1"}}
	if _, err := s.Put(t.Context(), acct, 0, t0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a, err := s.Get(t.Context(), "AC1")
		if err != nil {
			t.Fatal(err)
		}
		if a.IdPCertificates[0] != "c1" || a.DefaultRoles[0] != "agent" || a.Flex.InstanceSID != "GO1" {
			t.Fatalf("Get returned a changed account: %+v", a)
		}
		a.IdPCertificates[0], a.DefaultRoles[0], a.Flex.InstanceSID = "evil", "admin", "GO2"
	}
	other, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a, err := other.Get(t.Context(), "AC1")
	if err != nil {
		t.Fatal(err)
	}
	a.FriendlyName = "changed elsewhere"
	if _, err := other.Put(t.Context(), a, a.Version, t0); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Get(t.Context(), "AC1"); err != nil || a.FriendlyName != "changed elsewhere" {
		t.Fatalf("after another handle's change: %q, %v", a.FriendlyName, err)
	}
	if err := other.Delete(t.Context(), "AC1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "AC1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after another handle's delete: %v", err)
	}
}
