package rotate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/rotate"
)

// backends are the Secrets Manager implementations every test in this file
// runs against; see backends_test.go.
var backends = []secretsBackend{smfakeBackend, motoBackend}

// TestRotationOnBackends runs the rotation flows that need no fault
// injection on each backend, with the same checks, so that smfake's
// answers are held to moto's. (TestTestSecretRejectsBadPendingVersion
// also runs on both.)
func TestRotationOnBackends(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		run  func(t *testing.T, b secretsBackend)
	}{
		{"four steps in order", func(t *testing.T, b secretsBackend) {
			initial := &keys.Set{Current: pair(t), Next: pair(t)}
			f := newFixtureOn(t, b, string(mustMarshal(t, initial)), rotate.Options{})
			token := f.startRotation(t)
			f.runAll(t, token)
			checkRotated(t, f, token, initial)
		}},
		{"every step run twice, as retried invocations do", func(t *testing.T, b secretsBackend) {
			initial := &keys.Set{Previous: pair(t), Current: pair(t), Next: pair(t)}
			f := newFixtureOn(t, b, string(mustMarshal(t, initial)), rotate.Options{})
			token := f.startRotation(t)
			for _, s := range allSteps {
				for i := range 2 {
					if err := f.step(token, s); err != nil {
						t.Fatalf("%s (run %d): %v", s, i+1, err)
					}
				}
			}
			checkRotated(t, f, token, initial)
			// And the whole sequence once more after it completed.
			f.runAll(t, token)
			checkRotated(t, f, token, initial)
		}},
		{"each step invoked concurrently", func(t *testing.T, b secretsBackend) {
			initial := &keys.Set{Current: pair(t), Next: pair(t)}
			f := newFixtureOn(t, b, string(mustMarshal(t, initial)), rotate.Options{})
			token := f.startRotation(t)
			rots := make([]*rotate.Rotator, instances)
			for i := range rots {
				rots[i] = f.instance(t, 1)
			}
			for _, s := range allSteps {
				if s == rotate.StepCreate && f.overwritesPending {
					// See service.overwritesPending.
					if err := f.step(token, s); err != nil {
						t.Fatal(err)
					}
					continue
				}
				for i, err := range concurrently(instances, func(i int) error { return handle(rots[i], token, s) }) {
					if err != nil {
						t.Errorf("%s, instance %d: %v", s, i, err)
					}
				}
			}
			checkRotated(t, f, token, initial)
		}},
		{"two rotations in a row", func(t *testing.T, b secretsBackend) {
			initial := &keys.Set{Current: pair(t), Next: pair(t)}
			f := newFixtureOn(t, b, string(mustMarshal(t, initial)), rotate.Options{})
			first := f.startRotation(t)
			f.runAll(t, first)
			mid := f.current(t)
			second := f.startRotation(t)
			f.runAll(t, second)
			got := f.current(t)
			if kid(got.Previous) != mid.Current.Kid || got.Current.Kid != mid.Next.Kid {
				t.Errorf("after two rotations: %s/%s, want %s/%s", kid(got.Previous), got.Current.Kid, mid.Current.Kid, mid.Next.Kid)
			}
			stages := map[string][]string{}
			for _, v := range f.versions(t, f.client) {
				stages[v.ID] = v.Stages
			}
			if s := stages[second]; len(s) != 1 || s[0] != "AWSCURRENT" {
				t.Errorf("second token staged %v, want AWSCURRENT", s)
			}
			if s := stages[first]; len(s) != 1 || s[0] != "AWSPREVIOUS" {
				t.Errorf("first token staged %v, want AWSPREVIOUS", s)
			}
		}},
		{"a token that is not pending is refused", func(t *testing.T, b secretsBackend) {
			f := newFixtureOn(t, b, string(mustMarshal(t, &keys.Set{Current: pair(t), Next: pair(t)})), rotate.Options{})
			vs := f.versions(t, f.client)
			if len(vs) != 1 {
				t.Fatalf("%d versions before any rotation, want 1", len(vs))
			}
			token := f.startRotation(t)
			f.runAll(t, token)
			// vs[0] is now AWSPREVIOUS; the other token names no version.
			for _, tok := range []string{vs[0].ID, newToken(t)} {
				for _, s := range allSteps {
					if err := f.step(tok, s); !errors.Is(err, rotate.ErrNotPending) {
						t.Errorf("%s with token %s = %v, want ErrNotPending", s, tok, err)
					}
				}
			}
		}},
		{"a secret without rotation is refused", func(t *testing.T, b secretsBackend) {
			f := newFixtureOn(t, b, string(mustMarshal(t, &keys.Set{Current: pair(t), Next: pair(t)})), rotate.Options{})
			const other = "samlflex/not-rotated"
			if _, err := f.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
				Name: aws.String(other), SecretString: aws.String(string(mustMarshal(t, &keys.Set{Current: pair(t)}))),
			}); err != nil {
				t.Fatal(err)
			}
			err := f.rot.Handle(context.Background(), rotate.Event{SecretID: other, ClientRequestToken: newToken(t), Step: rotate.StepCreate})
			if !errors.Is(err, rotate.ErrRotationDisabled) {
				t.Fatalf("Handle = %v, want ErrRotationDisabled", err)
			}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, b)
				})
			}
		})
	}
}
