package storetest

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// CheckModes fails t for each path whose permission bits are not the ones
// given. The embedded backends' files hold which IdPs an account trusts, so
// other local users must not be able to rewrite them (or read them).
func CheckModes(t *testing.T, want map[string]os.FileMode) {
	t.Helper()
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %o, want %o", path, got, mode)
		}
	}
}

// ReopenKeepsData writes an account and marks an assertion key used through
// s, closes s, calls afterClose (if not nil) for the backend's own checks
// on the closed file, and then checks that the store reopen returns still
// has the account and still treats the key as a replay.
func ReopenKeepsData(t *testing.T, s store.Store, afterClose func(t *testing.T), reopen func() (store.Store, error)) {
	t.Helper()
	a := samlflex.Account{AccountSID: sid(1), FriendlyName: "kept"}
	if _, err := s.Put(t.Context(), a, 0, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUsed(t.Context(), "k", t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if afterClose != nil {
		afterClose(t)
	}
	s, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(t.Context(), a.AccountSID)
	if err != nil || got.FriendlyName != "kept" || got.Version != 1 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	// A replay after a restart is still a replay.
	if err := s.MarkUsed(t.Context(), "k", t0.Add(time.Hour), t0); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("MarkUsed after reopen: %v, want ErrAlreadyExists", err)
	}
}
