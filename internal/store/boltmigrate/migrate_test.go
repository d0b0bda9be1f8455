package boltmigrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 123456789, time.UTC)

const (
	sid1 = "AC00000000000000000000000000000001"
	sid2 = "AC00000000000000000000000000000002"
)

// oldStore writes a bbolt store the way samlflex did before SQLite: two
// accounts (one at version 3), a live and an expired assertion record.
func oldStore(t *testing.T) (dir, boltPath string) {
	t.Helper()
	dir = t.TempDir()
	boltPath = filepath.Join(dir, "samlflex.db")
	s, err := boltstore.Open(boltPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	off := false
	a := samlflex.Account{AccountSID: sid1, FriendlyName: "prod", IdPCertificates: []string{"c"}, AllowIdPInitiated: &off,
		ClockSkew: samlflex.Duration(90 * time.Second), Flex: &samlflex.FlexConnection{InstanceSID: "GO1"}}
	for v := range int64(3) {
		if _, err := s.Put(t.Context(), a, v, t0.Add(time.Duration(v)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: sid2, FriendlyName: "test"}, 0, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(t.Context(), sid1+"#_live", t0.Add(5*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(t.Context(), sid1+"#_old", t0.Add(-time.Minute), t0.Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, boltPath
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir, boltPath := oldStore(t)
	sqlitePath := filepath.Join(dir, "samlflex.sqlite")
	res, err := Migrate(t.Context(), boltPath, sqlitePath, t0)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	want := Result{Accounts: 2, Assertions: 1, Expired: 1, MovedTo: boltPath + ".migrated"}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	// Nothing deleted: the bbolt file is renamed, and still opens with
	// its data (Migrate held it with bbolt's write lock, whose no-op
	// commit changes bytes but not content).
	old, err := boltstore.Open(boltPath+".migrated", boltstore.Options{})
	if err != nil {
		t.Fatalf("bbolt file not kept as .migrated: %v", err)
	}
	if list, err := old.List(t.Context()); err != nil || len(list) != 2 {
		t.Errorf(".migrated holds %d accounts, %v", len(list), err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(boltPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", boltPath, err)
	}
	for _, leftover := range []string{sqlitePath + ".migrating", sqlitePath + ".migrating-wal", sqlitePath + "-wal"} {
		if _, err := os.Lstat(leftover); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", leftover, err)
		}
	}

	s, err := sqlitestore.Open(sqlitePath, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(t.Context(), sid1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 3 || !got.UpdatedAt.Equal(t0.Add(2*time.Hour)) || got.FriendlyName != "prod" ||
		got.AllowIdPInitiated == nil || *got.AllowIdPInitiated || got.Flex == nil || got.Flex.InstanceSID != "GO1" ||
		got.ClockSkew != samlflex.Duration(90*time.Second) {
		t.Errorf("migrated account = %+v", got)
	}
	// An admin who read version 3 before the upgrade can still save.
	if _, err := s.Put(t.Context(), got, 3, t0); err != nil {
		t.Errorf("Put with the pre-migration version: %v", err)
	}
	list, err := s.List(t.Context())
	if err != nil || len(list) != 2 {
		t.Errorf("List = %d accounts, %v", len(list), err)
	}
	// The live record is still a replay; the expired one was left behind.
	if err := s.MarkUsed(t.Context(), sid1+"#_live", t0.Add(time.Hour), t0); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("replay of a migrated assertion: %v, want ErrAlreadyExists", err)
	}
	if err := s.MarkUsed(t.Context(), sid1+"#_old", t0.Add(time.Hour), t0.Add(-30*time.Minute)); err != nil {
		t.Errorf("the expired record was migrated: %v", err)
	}
}

func TestMigrateKeepsEarlierMigratedFile(t *testing.T) {
	t.Parallel()
	dir, boltPath := oldStore(t)
	if err := os.WriteFile(boltPath+".migrated", []byte("earlier"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Migrate(t.Context(), boltPath, filepath.Join(dir, "samlflex.sqlite"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := boltPath + ".migrated-20250314T150926Z"; res.MovedTo != want {
		t.Errorf("MovedTo = %s, want %s", res.MovedTo, want)
	}
	if b, _ := os.ReadFile(boltPath + ".migrated"); string(b) != "earlier" {
		t.Error("an earlier .migrated file was overwritten")
	}
}

// TestMigrateReplacesCrashLeftover: a .migrating file from a migration that
// crashed is not mistaken for the store and does not block the retry.
func TestMigrateReplacesCrashLeftover(t *testing.T) {
	t.Parallel()
	dir, boltPath := oldStore(t)
	sqlitePath := filepath.Join(dir, "samlflex.sqlite")
	half, err := sqlitestore.Open(sqlitePath+".migrating", sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := half.Put(t.Context(), samlflex.Account{AccountSID: "AC9"}, 0, t0); err != nil {
		t.Fatal(err)
	}
	if err := half.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Migrate(t.Context(), boltPath, sqlitePath, t0); err != nil {
		t.Fatalf("Migrate over a leftover: %v", err)
	}
	s, err := sqlitestore.Open(sqlitePath, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if list, _ := s.List(t.Context()); len(list) != 2 {
		t.Errorf("migrated store has %d accounts, want the 2 of the bbolt file", len(list))
	}
}

// TestMigrateFailures: each failure leaves the bbolt file in place and no
// SQLite file, so nothing is lost and the next start retries.
func TestMigrateFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, boltPath, sqlitePath string)
		wantErr error
		wantMsg string
		// sqliteKept: the SQLite file existed before and must survive.
		sqliteKept bool
	}{
		{
			name: "OldSamlflexStillRunning",
			prepare: func(t *testing.T, boltPath, _ string) {
				s, err := boltstore.Open(boltPath, boltstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
			},
			wantErr: boltstore.ErrInUse,
		},
		{
			name: "TargetExists",
			prepare: func(t *testing.T, _, sqlitePath string) {
				if err := os.WriteFile(sqlitePath, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr:    ErrTargetExists,
			sqliteKept: true,
		},
		{
			name: "CorruptAssertionRecord",
			prepare: func(t *testing.T, boltPath, _ string) {
				db, err := bolt.Open(boltPath, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = db.Update(func(tx *bolt.Tx) error {
					return tx.Bucket([]byte("assertions")).Put([]byte("bad"), []byte{1})
				})
				if cerr := db.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: "corrupt expiry",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, boltPath := oldStore(t)
			sqlitePath := filepath.Join(dir, "samlflex.sqlite")
			tc.prepare(t, boltPath, sqlitePath)
			_, err := Migrate(t.Context(), boltPath, sqlitePath, t0)
			if err == nil {
				t.Fatal("Migrate succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %v lacks %q", err, tc.wantMsg)
			}
			if _, err := os.Lstat(boltPath); err != nil {
				t.Errorf("bbolt file gone after a failed migration: %v", err)
			}
			if _, err := os.Lstat(boltPath + ".migrated"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf(".migrated after a failed migration: %v", err)
			}
			_, err = os.Lstat(sqlitePath)
			if exists := err == nil; exists != tc.sqliteKept {
				t.Errorf("SQLite file exists = %v after a failed migration, want %v", exists, tc.sqliteKept)
			}
			if _, err := os.Lstat(sqlitePath + ".migrating"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temporary file left: %v", err)
			}
		})
	}
}
