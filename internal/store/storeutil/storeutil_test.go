package storeutil

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestEncodeAccount(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	a, body, err := EncodeAccount("teststore", samlflex.Account{AccountSID: "AC1", FriendlyName: "n"}, 4, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 5 || !a.UpdatedAt.Equal(now) || a.UpdatedAt.Location() != time.UTC {
		t.Fatalf("version %d, updated %v; want 5, %v in UTC", a.Version, a.UpdatedAt, now)
	}
	back, err := DecodeAccount("teststore", "AC1", body)
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != 5 || back.FriendlyName != "n" || !back.UpdatedAt.Equal(now) {
		t.Fatalf("round trip = %+v", back)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"empty SID", func() error {
			_, _, err := EncodeAccount("teststore", samlflex.Account{}, 0, time.Now())
			return err
		}, "teststore: put: empty account SID"},
		{"negative version", func() error {
			_, _, err := EncodeAccount("teststore", samlflex.Account{AccountSID: "AC1"}, -1, time.Now())
			return err
		}, "teststore: put AC1: negative expected version -1"},
		{"corrupt JSON", func() error {
			_, err := DecodeAccount("teststore", "AC1", []byte("{"))
			return err
		}, "teststore: account AC1 is corrupt: "},
		{"empty path", func() error { return MakeDir("teststore", "") }, "teststore: empty path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.err(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestMakeDir(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "store.db")
	if err := MakeDir("teststore", path); err != nil {
		t.Fatal(err)
	}
	// The directory must exist and be private to the owner.
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("directory mode %v, want no group or other bits", perm)
	}
}

func TestBackgroundClose(t *testing.T) {
	t.Parallel()
	var b Background
	b.Init(nil, nil)
	calls := 0
	closeErr := errors.New("closed")
	closeFile := func() error { calls++; return closeErr }
	for range 2 {
		if err := b.Close(closeFile); !errors.Is(err, closeErr) {
			t.Fatalf("Close = %v, want %v", err, closeErr)
		}
	}
	if calls != 1 {
		t.Fatalf("closeFile called %d times, want 1", calls)
	}
}

func TestBackgroundSweeps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b Background
	b.Init(func() time.Time { return now }, nil)
	type result struct {
		n   int
		err error
	}
	results := make(chan result, 1)
	tick, stopped := make(chan time.Time), make(chan struct{})
	sweepErr := errors.New("sweep failed")
	b.Start(tick, func() { close(stopped) }, func(at time.Time) (int, error) {
		if !at.Equal(now) {
			return 0, errors.New("sweep got " + at.String())
		}
		return 3, sweepErr
	}, func(n int, err error) { results <- result{n, err} })
	tick <- time.Time{} // the tick's time is ignored; the clock decides
	if r := <-results; r.n != 3 || !errors.Is(r.err, sweepErr) {
		t.Fatalf("sweep = %d, %v; want 3, %v", r.n, r.err, sweepErr)
	}
	if err := b.Close(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped: // Close waited for the loop, which released its ticker
	default:
		t.Fatal("Close returned before the sweeper stopped its ticker")
	}
}

// TestExpiryNanos: UnixNano where it is defined, saturated beyond it.
func TestExpiryNanos(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 1234), 1234},
		{time.Unix(0, math.MaxInt64), math.MaxInt64},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
	} {
		if got := ExpiryNanos(tc.t); got != tc.want {
			t.Errorf("ExpiryNanos(%s) = %d, want %d", tc.t, got, tc.want)
		}
	}
}
