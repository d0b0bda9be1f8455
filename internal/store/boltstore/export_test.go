package boltstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestForEachAssertion(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{})
	defer s.Close()
	markUsed(t, s, map[string]time.Duration{"b": time.Hour, "a": time.Minute})
	type rec struct {
		key string
		exp time.Time
	}
	var got []rec
	err := s.ForEachAssertion(t.Context(), func(k string, exp time.Time) error {
		got = append(got, rec{k, exp})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []rec{{"a", t0.Add(time.Minute)}, {"b", t0.Add(time.Hour)}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].key != want[i].key || !got[i].exp.Equal(want[i].exp) {
			t.Errorf("record %d = %v, want %v", i, got[i], want[i])
		}
	}

	// fn's error stops the walk and comes back.
	stop := errors.New("stop")
	n := 0
	if err := s.ForEachAssertion(t.Context(), func(string, time.Time) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEachAssertion with a failing fn: %v after %d calls", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.ForEachAssertion(ctx, func(string, time.Time) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestForEachAssertionCorrupt: an unreadable record fails the walk instead
// of being skipped (a migration that skipped it could forget a used ID).
func TestForEachAssertionCorrupt(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{})
	defer s.Close()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssertions).Put([]byte("bad"), []byte{1, 2, 3})
	}); err != nil {
		t.Fatal(err)
	}
	err := s.ForEachAssertion(t.Context(), func(string, time.Time) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "corrupt expiry") {
		t.Fatalf("ForEachAssertion over a corrupt record: %v", err)
	}
}
