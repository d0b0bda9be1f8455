package rotate_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/rotate"
)

// Secrets Manager may invoke the rotation function for a step more than
// once, and not one after the other: it retries an invocation that seems
// lost while that one still runs, and two Lambda instances then work on the
// same token. These tests run such invocations concurrently, each with its
// own SDK client and Rotator, against one fake, and require what a single
// invocation guarantees: one pending version, a valid rotation made
// current, one announcement, and no failure reported for a race.

const instances = 8

// checkRotated checks the state after a rotation from initial (nil: seeding)
// completed: one new version holding AWSCURRENT, a valid rotation of
// initial, one pending value ever stored, exactly one "sp_key_rotated" event
// and one SPKeyRotations metric, and no failure reported.
func checkRotated(t *testing.T, f *fixture, token string, initial *keys.Set) {
	t.Helper()
	checkFinalVersions(t, f, token, initial != nil)
	got := f.current(t)
	if err := got.Check(testNow, nil); err != nil {
		t.Errorf("final set: %v", err)
	}
	switch {
	case got.Next == nil:
		t.Error("final set has no next key")
	case initial == nil:
		if got.Previous != nil {
			t.Errorf("seeded set has previous key %s", got.Previous.Kid)
		}
	default:
		if kid(got.Previous) != initial.Current.Kid || got.Current.Kid != initial.Next.Kid {
			t.Errorf("final set = %s/%s/%s, want %s/%s/<new>", kid(got.Previous), got.Current.Kid, got.Next.Kid, initial.Current.Kid, initial.Next.Kid)
		}
		if got.Next.Kid == initial.Current.Kid || got.Next.Kid == initial.Next.Kid || got.Next.Kid == kid(initial.Previous) {
			t.Errorf("next key %s is not new", got.Next.Kid)
		}
	}
	// Every invocation that lost the race to store the pending value
	// generated keys too; none of them may have been stored or logged as
	// created.
	if n := len(f.logs.WithMsg(t, "sp_key_rotation_pending_created")); n != 1 {
		t.Errorf("%d sp_key_rotation_pending_created events, want 1", n)
	}
	events := f.logs.WithMsg(t, "sp_key_rotated")
	if len(events) != 1 {
		t.Errorf("%d sp_key_rotated events, want 1", len(events))
	} else if events[0]["current_kid"] != got.Current.Kid || events[0]["next_kid"] != got.Next.Kid {
		t.Errorf("sp_key_rotated names %v/%v, want %s/%s", events[0]["current_kid"], events[0]["next_kid"], got.Current.Kid, got.Next.Kid)
	}
	if n := len(f.emf.WithKey(t, "SPKeyRotations")); n != 1 {
		t.Errorf("%d SPKeyRotations metrics, want 1", n)
	}
	if n := len(f.emf.WithKey(t, "SPKeyRotationFailures")); n != 0 {
		t.Errorf("%d SPKeyRotationFailures metrics, want 0: %v", n, f.logs.WithMsg(t, "sp_key_rotation_failed"))
	}
}

// concurrently runs fn(i) for i < n, started together, and returns the
// errors by i.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestConcurrentStep runs each step as `instances` simultaneous invocations
// of the same event, after the steps before it ran once, then lets the
// rotation go on and be re-run once more.
func TestConcurrentStep(t *testing.T) {
	t.Parallel()
	for _, seeding := range []bool{false, true} {
		for _, attempts := range []int{1, 3} {
			for i, step := range allSteps {
				name := fmt.Sprintf("seeding=%v/sdk-attempts=%d/%s", seeding, attempts, step)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					var initial *keys.Set
					if !seeding {
						initial = &keys.Set{Current: pair(t), Next: pair(t)}
					}
					f := newFixture(t, initial, rotate.Options{})
					token := f.startRotation(t)
					f.runSteps(t, token, allSteps[:i])
					rots := make([]*rotate.Rotator, instances)
					for j := range rots {
						rots[j] = f.instance(t, attempts)
					}
					errs := concurrently(instances, func(j int) error { return handle(rots[j], token, step) })
					for j, err := range errs {
						if err != nil {
							t.Errorf("invocation %d: %v", j, err)
						}
					}
					for _, s := range allSteps[i+1:] {
						if err := f.step(token, s); err != nil {
							t.Fatalf("%s after the concurrent %s: %v", s, step, err)
						}
					}
					f.runAll(t, token) // a late duplicate of the whole rotation
					checkRotated(t, f, token, initial)
				})
			}
		}
	}
}

// TestConcurrentRotations runs whole rotations (createSecret to
// finishSecret) of one token side by side, in as many interleavings as the
// scheduler produces. A failed step would be retried, as Secrets Manager
// does, but none may fail.
func TestConcurrentRotations(t *testing.T) {
	t.Parallel()
	for _, runs := range []int{2, instances} {
		for _, seeding := range []bool{false, true} {
			t.Run(fmt.Sprintf("runs=%d/seeding=%v", runs, seeding), func(t *testing.T) {
				t.Parallel()
				for round := range 10 {
					var initial *keys.Set
					if !seeding {
						initial = &keys.Set{Current: pair(t), Next: pair(t)}
					}
					f := newFixture(t, initial, rotate.Options{})
					token := f.startRotation(t)
					rots := make([]*rotate.Rotator, runs)
					for j := range rots {
						rots[j] = f.instance(t, 1+j%3)
					}
					errs := concurrently(runs, func(j int) error {
						var failed []error
						for _, s := range allSteps {
							for try := 0; ; try++ {
								err := handle(rots[j], token, s)
								if err == nil {
									break
								}
								failed = append(failed, err)
								if try == 3 {
									return fmt.Errorf("%s keeps failing: %v", s, failed)
								}
							}
						}
						if len(failed) > 0 {
							return fmt.Errorf("converged after failures: %v", failed)
						}
						return nil
					})
					for j, err := range errs {
						if err != nil {
							t.Errorf("round %d, run %d: %v", round, j, err)
						}
					}
					checkRotated(t, f, token, initial)
					if t.Failed() {
						return
					}
				}
			})
		}
	}
}

// TestInterleavings holds invocation A at a chosen request (smfake.Pause)
// and runs invocation B through the given steps in that window, then lets A
// finish: the races TestConcurrentStep can only hope to hit, made certain.
func TestInterleavings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		aStep  string
		op     string
		point  smfake.PausePoint
		skip   int      // A's requests of op to let through first
		bSteps []string // B's steps while A waits (B starts from the same state as A)
		// wantSkip is the reason A logs for leaving its step's work to
		// B; "" if A does it.
		wantSkip string
	}{
		{
			name:  "createSecret: B stores the pending value first",
			aStep: rotate.StepCreate, op: "PutSecretValue", point: smfake.BeforeApply,
			bSteps: []string{rotate.StepCreate}, wantSkip: "another invocation created the pending version",
		},
		{
			name:  "createSecret: B rotates completely before A's put",
			aStep: rotate.StepCreate, op: "PutSecretValue", point: smfake.BeforeApply,
			bSteps: allSteps, wantSkip: "another invocation made the version AWSCURRENT",
		},
		{
			name:  "createSecret: B rotates completely before A reads the current version",
			aStep: rotate.StepCreate, op: "GetSecretValue", point: smfake.BeforeApply, skip: 1,
			bSteps: allSteps, wantSkip: "another invocation made the version AWSCURRENT",
		},
		{
			name:  "testSecret: B finishes before A reads the pending version",
			aStep: rotate.StepTest, op: "GetSecretValue", point: smfake.BeforeApply,
			bSteps: []string{rotate.StepFinish}, wantSkip: "another invocation made the version AWSCURRENT",
		},
		{
			name:  "testSecret: B finishes between A's reads of the pending and current versions",
			aStep: rotate.StepTest, op: "GetSecretValue", point: smfake.BeforeApply, skip: 1,
			bSteps: []string{rotate.StepFinish}, wantSkip: "another invocation made the version AWSCURRENT",
		},
		{
			name:  "finishSecret: B finishes between A's reads of the pending and current versions",
			aStep: rotate.StepFinish, op: "GetSecretValue", point: smfake.BeforeApply, skip: 1,
			bSteps: []string{rotate.StepFinish}, wantSkip: "another invocation completed the rotation",
		},
		{
			name:  "finishSecret: B finishes before A moves AWSCURRENT",
			aStep: rotate.StepFinish, op: "UpdateSecretVersionStage", point: smfake.BeforeApply,
			bSteps: []string{rotate.StepFinish}, wantSkip: "another invocation completed the rotation",
		},
		{
			name:  "finishSecret: B runs after A moved AWSCURRENT, before A hears back",
			aStep: rotate.StepFinish, op: "UpdateSecretVersionStage", point: smfake.AfterApply,
			bSteps: []string{rotate.StepFinish}, wantSkip: "another invocation completed the rotation",
		},
		{
			name:  "finishSecret: B runs before A clears AWSPENDING",
			aStep: rotate.StepFinish, op: "UpdateSecretVersionStage", point: smfake.BeforeApply, skip: 1,
			bSteps: []string{rotate.StepFinish}, wantSkip: "another invocation completed the rotation",
		},
		{
			name:  "finishSecret: B runs after A cleared AWSPENDING, before A hears back",
			aStep: rotate.StepFinish, op: "UpdateSecretVersionStage", point: smfake.AfterApply, skip: 1,
			bSteps: []string{rotate.StepFinish}, wantSkip: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, token, initial := rotationPast(t, allSteps[:slices.Index(allSteps, tt.aStep)])
			a, b := f.instance(t, 3), f.instance(t, 3)
			p := f.srv.Pause(tt.op, tt.point, tt.skip)
			aDone := untilPause(t, p, "A", func() error { return handle(a, token, tt.aStep) })
			skipsBefore := len(skipsFor(t, f, tt.wantSkip))
			for _, s := range tt.bSteps {
				if err := handle(b, token, s); err != nil {
					t.Fatalf("B's %s while A waits: %v", s, err)
				}
			}
			p.Release()
			if err := <-aDone; err != nil {
				t.Fatalf("A's %s: %v", tt.aStep, err)
			}
			if tt.wantSkip != "" && len(skipsFor(t, f, tt.wantSkip)) <= skipsBefore {
				t.Errorf("A did not log that it skipped its work because %q; log: %v", tt.wantSkip, f.logs.Records(t))
			}
			f.runAll(t, token) // what Secrets Manager does next, or a late duplicate
			checkRotated(t, f, token, initial)
		})
	}
}

func skipsFor(t *testing.T, f *fixture, reason string) []map[string]any {
	var out []map[string]any
	for _, m := range f.logs.WithMsg(t, "sp_key_rotation_step_skipped") {
		if m["reason"] == reason {
			out = append(out, m)
		}
	}
	return out
}

// TestConcurrentFinishRejectsBadVersion: however many invocations run
// finishSecret on a pending version that fails testSecret's checks, none
// makes it current and none announces.
func TestConcurrentFinishRejectsBadVersion(t *testing.T) {
	t.Parallel()
	a, b, c := pair(t), pair(t), pair(t)
	initial := &keys.Set{Current: a, Next: b}
	f := newFixture(t, initial, rotate.Options{})
	token := f.startRotation(t)
	// Not a rotation of the current set: c is not the published next key.
	putPending(t, f, token, string(mustMarshal(t, &keys.Set{Previous: a, Current: c, Next: pair(t)})))
	rots := make([]*rotate.Rotator, instances)
	for j := range rots {
		rots[j] = f.instance(t, 3)
	}
	errs := concurrently(instances, func(j int) error {
		return handle(rots[j], token, allSteps[2+j%2]) // testSecret and finishSecret, mixed
	})
	for j, err := range errs {
		if !errors.Is(err, rotate.ErrTestFailed) {
			t.Errorf("invocation %d = %v, want ErrTestFailed", j, err)
		}
	}
	if got := f.current(t); got.Current.Kid != a.Kid || kid(got.Next) != b.Kid {
		t.Error("a rejected pending version became current")
	}
	if n := len(f.logs.WithMsg(t, "sp_key_rotated")); n != 0 {
		t.Errorf("%d sp_key_rotated events, want 0", n)
	}
}

// TestCreateSecretAdoptsOnlyARotation: when createSecret's put loses to a
// value that is not a rotation of the current set (written by something
// other than this function), the loser fails with ErrTestFailed instead of
// adopting it, and nothing becomes current.
func TestCreateSecretAdoptsOnlyARotation(t *testing.T) {
	t.Parallel()
	a, b, c := pair(t), pair(t), pair(t)
	tests := []struct {
		name  string
		value func(t *testing.T) string
	}{
		{"not a key set", func(*testing.T) string { return "not a key set" }},
		{"not a rotation of the current set", func(t *testing.T) string {
			return string(mustMarshal(t, &keys.Set{Previous: a, Current: c, Next: pair(t)}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, &keys.Set{Current: a, Next: b}, rotate.Options{})
			token := f.startRotation(t)
			p := f.srv.Pause("PutSecretValue", smfake.BeforeApply, 0)
			done := untilPause(t, p, "createSecret", func() error { return f.step(token, rotate.StepCreate) })
			putPending(t, f, token, tt.value(t))
			p.Release()
			if err := <-done; !errors.Is(err, rotate.ErrTestFailed) {
				t.Fatalf("createSecret = %v, want ErrTestFailed", err)
			}
			if got := f.current(t); got.Current.Kid != a.Kid {
				t.Error("the current set changed")
			}
			if n := len(f.logs.WithMsg(t, "sp_key_rotation_pending_created")); n != 0 {
				t.Errorf("%d sp_key_rotation_pending_created events, want 0", n)
			}
		})
	}
}
