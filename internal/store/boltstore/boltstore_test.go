package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/samlflex/samlflex/internal/samlflextest/sweeptest"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storetest"
)

var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)

func open(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "samlflex.db")
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

func TestOpenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	defer s.Close()
	storetest.CheckModes(t, map[string]os.FileMode{
		path:               0o600,
		filepath.Dir(path): 0o700,
	})
}

func TestOpenEmptyPath(t *testing.T) {
	t.Parallel()
	if _, err := Open("", Options{}); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

func TestSecondOpenFailsWithClearError(t *testing.T) {
	t.Parallel()
	first, path := open(t, Options{})
	start := time.Now()
	second, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrInUse) {
		t.Errorf("error %v does not wrap ErrInUse", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "data directory is in use by another samlflex process") || !strings.Contains(msg, path) {
		t.Errorf("error %q does not say the directory is in use, or which file", msg)
	}
	// bbolt polls the lock every 50ms; anything near a second means the
	// timeout was not applied.
	if elapsed > 900*time.Millisecond {
		t.Errorf("second Open took %s with a 50ms lock timeout", elapsed)
	}
	// Once the first process closes, the lock is free.
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	s, path := open(t, Options{})
	storetest.ReopenKeepsData(t, s, nil, func() (store.Store, error) { return Open(path, Options{}) })
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

func markUsed(t *testing.T, s *Store, ttl map[string]time.Duration) {
	t.Helper()
	for k, d := range ttl {
		if err := s.MarkUsed(t.Context(), k, t0.Add(d), t0); err != nil {
			t.Fatalf("MarkUsed(%s): %v", k, err)
		}
	}
}

// keys lists the assertion keys in the file, in order.
func keys(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssertions).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
