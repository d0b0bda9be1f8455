package rotate_test

import (
	"testing"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/rotate"
)

// TestClearPendingOutcomes pins the announcement count when clearing
// AWSPENDING, the step that elects the announcer, fails and the labels
// cannot be read afterwards either: the only single-invocation cases in
// which complete's documented bound is not exactly one.
func TestClearPendingOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode smfake.FaultMode // of the clear
		// wantAnnouncements after finishSecret fails and is run again.
		wantAnnouncements int
	}{
		// Applied, answer lost: announced although the step fails; the
		// re-run finds the label gone and does nothing.
		{"applied, answer lost", smfake.FailAfter, 1},
		// Refused by throttling: nothing happened, the re-run announces.
		{"throttled", smfake.Throttle, 1},
		// Not applied, but a 500 says nothing about that: announced in
		// case it was applied, and the re-run announces again. The
		// documented duplicate.
		{"not applied, answer a 500", smfake.FailBefore, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, token, _ := rotationPast(t, allSteps[:3])
			f.srv.FailLater("UpdateSecretVersionStage", tt.mode, 1) // the clear, after the move
			f.srv.FailLater("DescribeSecret", smfake.FailBefore, 1) // the look at the labels, after Handle's
			if err := f.step(token, rotate.StepFinish); err == nil {
				t.Fatal("finishSecret succeeded without knowing the labels")
			}
			if err := f.step(token, rotate.StepFinish); err != nil {
				t.Fatalf("re-run: %v", err)
			}
			checkFinalVersions(t, f, token, true)
			if n := len(f.logs.WithMsg(t, "sp_key_rotated")); n != tt.wantAnnouncements {
				t.Errorf("%d sp_key_rotated events, want %d", n, tt.wantAnnouncements)
			}
			if n := len(f.emf.WithKey(t, "SPKeyRotations")); n != tt.wantAnnouncements {
				t.Errorf("%d SPKeyRotations metrics, want %d", n, tt.wantAnnouncements)
			}
		})
	}

	// The other documented duplicate needs a fault and a race: A's clear
	// fails with a 500 without being applied, B clears in that moment and
	// announces, and A, finding the label gone, cannot tell B's removal
	// from its own.
	t.Run("unknown outcome while another invocation clears", func(t *testing.T) {
		t.Parallel()
		f, token, _ := rotationPast(t, allSteps[:3])
		a, b := f.instance(t, 3), f.instance(t, 3)
		f.srv.FailLater("UpdateSecretVersionStage", smfake.FailBefore, 1)
		p := f.srv.Pause("DescribeSecret", smfake.BeforeApply, 1)
		aDone := untilPause(t, p, "A", func() error { return handle(a, token, rotate.StepFinish) })
		if err := handle(b, token, rotate.StepFinish); err != nil {
			t.Fatalf("B: %v", err)
		}
		p.Release()
		if err := <-aDone; err != nil {
			t.Fatalf("A: %v", err)
		}
		checkFinalVersions(t, f, token, true)
		if n := len(f.logs.WithMsg(t, "sp_key_rotated")); n != 2 {
			t.Errorf("%d sp_key_rotated events, want the documented 2", n)
		}
	})
}
