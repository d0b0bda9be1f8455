// Package sweeptest is the shared test suite of the embedded stores
// (sqlitestore, boltstore): what they add to store.Store, a Sweep that
// deletes expired one-time-use records and a background loop that runs it.
// Like its parent samlflextest, only _test.go files import it.
//
// storetest checks the store.Store contract every backend shares; this
// suite holds what the two file-backed stores had each copied into their
// own tests.
package sweeptest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
)

// Store is an embedded store: store.Store plus Sweep.
type Store interface {
	store.Store
	// Sweep deletes the records that expired at or before now and returns
	// how many it deleted.
	Sweep(now time.Time) (int, error)
}

// Backend opens stores of one embedded backend for the suite.
type Backend struct {
	// Open returns a new, empty store with the backend's options Now and
	// SweepEvery set to now (nil: the wall clock) and every (0: no
	// background sweeper).
	Open func(t *testing.T, now func() time.Time, every time.Duration) Store
	// Keys lists the one-time-use keys the store holds, sorted.
	Keys func(t *testing.T, s Store) []string
	// StartSweeper runs s's background sweep loop on tick: after gets each
	// sweep's result, stopped is called once the loop has released its
	// ticker (on Close).
	StartSweeper func(s Store, tick <-chan time.Time, after func(n int, err error), stopped func())
}

// t0 is when the suite's records are written.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)

// Run runs the suite on b.
func Run(t *testing.T, b Backend) {
	t.Run("CloseIsIdempotent", func(t *testing.T) { t.Parallel(); closeIsIdempotent(t, b) })
	t.Run("Sweep", func(t *testing.T) { t.Parallel(); sweep(t, b) })
	t.Run("BackgroundSweeper", func(t *testing.T) { t.Parallel(); backgroundSweeper(t, b) })
}

func closeIsIdempotent(t *testing.T, b Backend) {
	// A running sweeper: Close must stop it once and then do nothing.
	s := b.Open(t, nil, time.Hour)
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	// Calls after Close fail instead of panicking.
	if _, err := s.Get(t.Context(), "x"); err == nil {
		t.Fatal("Get after Close succeeded")
	}
}

func sweep(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name      string
		now       time.Time
		wantSwept int
		wantKept  []string
	}{
		{"NothingExpired", t0, 0, []string{"a", "b", "c"}},
		{"BeforeFirstExpiry", t0.Add(time.Minute - time.Nanosecond), 0, []string{"a", "b", "c"}},
		// At exactly expiresAt the record has expired, as in MarkUsed.
		{"AtFirstExpiry", t0.Add(time.Minute), 1, []string{"b", "c"}},
		{"Some", t0.Add(90 * time.Minute), 2, []string{"c"}},
		{"All", t0.Add(48 * time.Hour), 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := b.Open(t, nil, 0)
			defer s.Close()
			markUsed(t, s)
			n, err := s.Sweep(tc.now)
			if err != nil {
				t.Fatalf("Sweep: %v", err)
			}
			if n != tc.wantSwept {
				t.Errorf("Sweep = %d, want %d", n, tc.wantSwept)
			}
			if got := b.Keys(t, s); strings.Join(got, ",") != strings.Join(tc.wantKept, ",") {
				t.Errorf("kept %v, want %v", got, tc.wantKept)
			}
			// Kept records still block replays.
			for _, k := range tc.wantKept {
				if err := s.MarkUsed(t.Context(), k, tc.now.Add(time.Hour), tc.now); !errors.Is(err, store.ErrAlreadyExists) {
					t.Errorf("MarkUsed(%s) after Sweep: %v, want ErrAlreadyExists", k, err)
				}
			}
		})
	}
}

// backgroundSweeper drives the store's own loop with the test's ticks; the
// store's Now, not the tick's time, decides what has expired.
func backgroundSweeper(t *testing.T, b Backend) {
	now := t0.Add(90 * time.Minute)
	// every 0: no ticker of the store's own; the test drives the loop.
	s := b.Open(t, func() time.Time { return now }, 0)
	markUsed(t, s)

	type result struct {
		n   int
		err error
	}
	results := make(chan result, 1)
	tick := make(chan time.Time)
	stopped := make(chan struct{})
	b.StartSweeper(s, tick, func(n int, err error) { results <- result{n, err} }, func() { close(stopped) })

	tick <- time.Time{} // the tick's own time is ignored; Now decides
	if r := <-results; r.err != nil || r.n != 2 {
		t.Fatalf("first sweep = %d, %v; want 2, nil", r.n, r.err)
	}
	tick <- time.Time{}
	if r := <-results; r.err != nil || r.n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0, nil", r.n, r.err)
	}
	if got := b.Keys(t, s); strings.Join(got, ",") != "c" {
		t.Fatalf("kept %v, want [c]", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close returned, so the sweeper goroutine has exited and released
	// its ticker.
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned before the sweeper stopped its ticker")
	}
}

// markUsed records a, b and c at t0, expiring a minute, an hour and a day
// later.
func markUsed(t *testing.T, s Store) {
	t.Helper()
	for k, d := range map[string]time.Duration{"a": time.Minute, "b": time.Hour, "c": 24 * time.Hour} {
		if err := s.MarkUsed(t.Context(), k, t0.Add(d), t0); err != nil {
			t.Fatalf("MarkUsed(%s): %v", k, err)
		}
	}
}
