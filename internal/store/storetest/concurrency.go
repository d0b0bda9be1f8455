package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
)

// testConcurrency checks that the backends' conditional writes are atomic:
// a replayed assertion posted twice at once must not log in twice, and two
// admins saving the same version must not silently overwrite each other.
func testConcurrency(t *testing.T, open func(*testing.T) store.Store) {
	t.Run("MarkUsedSameKey", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 50
		key := sid(1) + "#_race"
		errs := race(n, func(int) error {
			return s.MarkUsed(t.Context(), key, t0.Add(5*time.Minute), t0)
		})
		wins, lost := count(t, errs, store.ErrAlreadyExists)
		if wins != 1 || lost != n-1 {
			t.Fatalf("%d succeeded and %d got ErrAlreadyExists; want 1 and %d", wins, lost, n-1)
		}
	})

	for _, tc := range []struct {
		name          string
		expectVersion int64
	}{
		{"CreateSameSID", 0},
		{"UpdateSameVersion", 1},
	} {
		t.Run("Put"+tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if tc.expectVersion > 0 {
				if _, err := s.Put(t.Context(), minimalAccount(sid(1)), 0, t0); err != nil {
					t.Fatalf("Put: %v", err)
				}
			}
			const n = 20
			var mu sync.Mutex
			winner := ""
			errs := race(n, func(i int) error {
				a := minimalAccount(sid(1))
				a.FriendlyName = fmt.Sprintf("writer %d", i)
				v, err := s.Put(t.Context(), a, tc.expectVersion, t0.Add(time.Second))
				if err == nil {
					mu.Lock()
					winner = a.FriendlyName
					mu.Unlock()
					if v != tc.expectVersion+1 {
						return fmt.Errorf("winner got version %d, want %d", v, tc.expectVersion+1)
					}
				}
				return err
			})
			wins, lost := count(t, errs, store.ErrVersionConflict)
			if wins != 1 || lost != n-1 {
				t.Fatalf("%d succeeded and %d got ErrVersionConflict; want 1 and %d", wins, lost, n-1)
			}
			// The stored account is the winner's, whole: no mix of writers.
			got, err := s.Get(t.Context(), sid(1))
			checkErr(t, "Get", err, nil)
			if got.FriendlyName != winner || got.Version != tc.expectVersion+1 {
				t.Fatalf("stored %q v%d, want the winner %q v%d", got.FriendlyName, got.Version, winner, tc.expectVersion+1)
			}
		})
	}
}

// race runs f(0..n-1) in n goroutines released at the same moment, to make
// the calls overlap as much as possible, and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// count returns how many calls succeeded and how many lost with lose; any
// other error fails the test.
func count(t *testing.T, errs []error, lose error) (wins, lost int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, lose):
			lost++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	return wins, lost
}
