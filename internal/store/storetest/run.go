package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
)

// Run runs the conformance suite. newStore must return a fresh, empty store
// each time it is called (every subtest gets its own, and subtests run in
// parallel) and may register its own t.Cleanup to release resources; Run
// closes each store at the end of its subtest and checks that Close
// succeeds, so newStore must not close it.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		// Registered after newStore's own cleanups, so it runs before them
		// (cleanups are LIFO): the store is closed before its tables or
		// files are removed.
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	t.Run("Accounts", func(t *testing.T) {
		t.Parallel()
		testAccounts(t, open)
	})
	t.Run("Assertions", func(t *testing.T) {
		t.Parallel()
		testAssertions(t, open)
	})
	t.Run("Concurrency", func(t *testing.T) {
		t.Parallel()
		testConcurrency(t, open)
	})
	t.Run("ContextCanceled", func(t *testing.T) {
		t.Parallel()
		testCanceled(t, open)
	})
}

// t0 is the fixed "now" of the suite. It has nanoseconds so that a backend
// that truncates times (to seconds or milliseconds) fails the round trip.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535897932, time.UTC)

// sid returns a well-formed Account SID; n orders them.
func sid(n int) string { return fmt.Sprintf("AC%032x", n) }

// checkErr fails unless err matches want (nil means success).
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}
