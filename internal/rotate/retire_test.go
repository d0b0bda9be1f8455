package rotate_test

import (
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/rotate"
)

// TestRotationRecordsCurrentSince: the rotated and the seeded set record
// when their current key started signing, which starts the previous key's
// retirement clock (keys.Retire).
func TestRotationRecordsCurrentSince(t *testing.T) {
	t.Parallel()
	for _, initial := range []*keys.Set{nil, {Current: pair(t), Next: pair(t)}} {
		f := newFixture(t, initial, rotate.Options{})
		f.runAll(t, f.startRotation(t))
		got := f.current(t)
		if !got.Current.CurrentSince.Equal(testNow) {
			t.Errorf("seeded=%v: current_since = %v, want %v", initial == nil, got.Current.CurrentSince, testNow)
		}
		if got.Next.CurrentSince != (time.Time{}) {
			t.Error("next key recorded as current")
		}
		if len(f.logs.WithMsg(t, "sp_key_rotation_late_finish")) != 0 {
			t.Error("a prompt rotation was reported as late")
		}
	}
}

// TestLateFinishWarns: a pending set created long before finishSecret
// runs records a too-early current_since; the version cannot be changed,
// so the rotation completes and says so.
func TestLateFinishWarns(t *testing.T) {
	t.Parallel()
	a, b := pair(t), pair(t)
	f := newFixture(t, &keys.Set{Current: a, Next: b}, rotate.Options{})
	token := f.startRotation(t)
	created := testNow.Add(-3 * time.Hour)
	putPending(t, f, token, string(mustMarshal(t, (&keys.Set{Current: a, Next: b}).Rotate(pair(t), created))))
	f.runAll(t, token)
	if got := f.current(t); got.Current.Kid != b.Kid || !got.Current.CurrentSince.Equal(created) {
		t.Fatalf("rotation did not complete as stored: %s since %v", got.Current.Kid, got.Current.CurrentSince)
	}
	ev := f.logs.WithMsg(t, "sp_key_rotation_late_finish")
	if len(ev) != 1 || ev[0]["level"] != "WARN" || ev[0]["gap"] != "3h0m0s" {
		t.Errorf("late-finish events = %v, want one Warn with gap 3h0m0s", ev)
	}
}
