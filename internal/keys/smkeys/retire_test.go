package smkeys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
)

// TestPreviousKeyRetires: the previous key verifies (Keys, KeyForKid) until
// the rotation time plus the token lifetime plus the margin plus the cache
// TTL, and not from then on, although the cached secret still holds it.
func TestPreviousKeyRetires(t *testing.T) {
	t.Parallel()
	const ttl, life, margin = 5 * time.Minute, time.Hour, 10 * time.Minute
	f := newFixture(t)
	first := ecSet(t, f.clock.Now())
	rotatedAt := f.clock.Now()
	rotated := first.Rotate(ecSet(t, rotatedAt).Current, rotatedAt)
	f.put(t, rotated)
	src := f.source(t, smkeys.Options{TTL: ttl, MaxTokenLifetime: life, RetireMargin: margin})
	ctx := context.Background()
	old := first.Current.Kid
	bound := rotatedAt.Add(life + margin + ttl)

	check := func(at time.Time, want bool) {
		t.Helper()
		f.clock.Advance(at.Sub(f.clock.Now()))
		set, err := src.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := set.ByKid(old) != nil; got != want {
			t.Errorf("at rotation+%s: previous in Keys = %v, want %v", at.Sub(rotatedAt), got, want)
		}
		p, err := src.KeyForKid(ctx, old)
		if want && (err != nil || p.Kid != old) {
			t.Errorf("at rotation+%s: KeyForKid(previous) = %v, %v", at.Sub(rotatedAt), p, err)
		}
		if !want && !errors.Is(err, keys.ErrUnknownKid) {
			t.Errorf("at rotation+%s: KeyForKid(retired) = %v, %v; want ErrUnknownKid", at.Sub(rotatedAt), p, err)
		}
	}
	check(rotatedAt, true)
	check(bound.Add(-time.Second), true)
	check(bound, false)
	check(bound.Add(24*time.Hour), false)
}

func TestNewRejectsNegativeRetirement(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, o := range []smkeys.Options{{MaxTokenLifetime: -time.Second}, {RetireMargin: -time.Second}} {
		if _, err := smkeys.New(f.client, secretName, o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}
