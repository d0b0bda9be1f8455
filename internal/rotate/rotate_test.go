package rotate_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/rotate"
)

const (
	secretName = "samlflex/sp-keys"
	lambdaARN  = "arn:aws:lambda:us-east-1:123456789012:function:samlflex-rotate"
)

var (
	testNow  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	allSteps = []string{rotate.StepCreate, rotate.StepSet, rotate.StepTest, rotate.StepFinish}
)

func TestFullRotation(t *testing.T) {
	t.Parallel()
	p, a, b := pair(t), pair(t), pair(t)
	tests := []struct {
		name     string
		initial  *keys.Set
		wantPrev *keys.Pair // nil: none
		wantCur  *keys.Pair // nil: a new key
	}{
		{"current and next", &keys.Set{Current: a, Next: b}, a, b},
		{"previous, current and next", &keys.Set{Previous: p, Current: a, Next: b}, a, b},
		{"no next: new current and new next", &keys.Set{Current: a}, a, nil},
		{"empty secret: seeded", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.initial, rotate.Options{})
			token := f.startRotation(t)
			f.runAll(t, token)

			got := f.current(t)
			if kid(got.Previous) != kid(tt.wantPrev) {
				t.Errorf("previous = %s, want %s", kid(got.Previous), kid(tt.wantPrev))
			}
			if tt.wantCur != nil && got.Current.Kid != tt.wantCur.Kid {
				t.Errorf("current = %s, want %s", got.Current.Kid, tt.wantCur.Kid)
			}
			if got.Next == nil {
				t.Fatal("no next key after rotation")
			}
			// The session-token keys rotate with their pairs: the new next
			// has a fresh one, the promoted pair keeps its own.
			for _, p := range []*keys.Pair{got.Current, got.Next} {
				if p.Token == nil {
					t.Fatalf("%s has no token key after rotation", p.Kid)
				}
			}
			if tt.wantCur != nil && got.Current.Token.Kid != tt.wantCur.Token.Kid {
				t.Errorf("current token key = %s, want %s (next's)", got.Current.Token.Kid, tt.wantCur.Token.Kid)
			}
			if tt.wantPrev != nil && (got.Previous.Token == nil || got.Previous.Token.Kid != tt.wantPrev.Token.Kid) {
				t.Error("the previous pair lost its token key")
			}
			for _, old := range []*keys.Pair{p, a, b} {
				if got.Next.Token.Kid == old.Token.Kid {
					t.Errorf("token key %s reused for the new next", old.Token.Kid)
				}
			}
			for _, old := range []*keys.Pair{p, a, b} {
				if got.Next.Kid == old.Kid || (tt.wantCur == nil && got.Current.Kid == old.Kid) {
					t.Errorf("key %s was reused where a new one was expected", old.Kid)
				}
			}
			checkFinalVersions(t, f, token, tt.initial != nil)

			events := f.logs.WithMsg(t, "sp_key_rotated")
			if len(events) != 1 {
				t.Fatalf("%d sp_key_rotated events, want 1", len(events))
			}
			ev := events[0]
			fp := keys.Fingerprint(got.Next.Certificate)
			if ev["current_kid"] != got.Current.Kid || ev["next_kid"] != got.Next.Kid || ev["next_cert_sha256"] != fp ||
				ev["current_cert_sha256"] != keys.Fingerprint(got.Current.Certificate) {
				t.Errorf("event = %v", ev)
			}
			action, _ := ev["action"].(string)
			if !strings.Contains(action, `"Verify Request Signatures"`) || !strings.Contains(action, fp) {
				t.Errorf("action = %q: must tell admins to upload the certificate, named by fingerprint", action)
			}
			if f.logs.Contains("PRIVATE KEY") {
				t.Error("key material in the logs")
			}
			docs := f.emf.WithKey(t, "SPKeyRotations")
			if len(docs) != 1 || len(f.emf.Records(t)) != 1 {
				t.Fatalf("EMF output = %v, want one SPKeyRotations document", f.emf.Records(t))
			}
			checkEMF(t, docs[0], "SPKeyRotations", "Count", 1, nil)
		})
	}
}

func TestDefaultAlgorithm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &keys.Set{Current: pair(t), Next: pair(t)}, rotate.Options{Algorithm: keys.RSA2048})
	token := f.startRotation(t)
	f.runAll(t, token)
	got := f.current(t)
	if k, ok := got.Next.Signer.(*rsa.PrivateKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("new next key is %T, want RSA 2048", got.Next.Signer)
	}
	if want := testNow.Add(rotate.DefaultValidity); !got.Next.Certificate.NotAfter.Equal(want) {
		t.Errorf("NotAfter = %s, want %s", got.Next.Certificate.NotAfter, want)
	}
}

// TestRerunAfterFailure fails one API call in one step, then lets Secrets
// Manager retry the rotation (all steps again, same token) and checks that
// the result is the same as without the failure: two versions, the right
// labels, keys shifted by one, no second pending value, one announcement.
func TestRerunAfterFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		step string
		op   string
		mode smfake.FaultMode
		skip int // calls of op in that step to let through first
		// recovers: the step itself succeeds, because after the failed
		// call the labels show that the change was applied.
		recovers bool
		// wantPuts counts PutSecretValue requests: 2 when the first put was
		// refused before being applied, 1 when a lost answer made the
		// re-run find the value already there.
		wantPuts int
	}{
		{rotate.StepCreate, "DescribeSecret", smfake.FailBefore, 0, false, 1},
		{rotate.StepCreate, "GetSecretValue", smfake.FailBefore, 0, false, 1},
		{rotate.StepCreate, "GetSecretValue", smfake.FailBefore, 1, false, 1},
		{rotate.StepCreate, "PutSecretValue", smfake.FailBefore, 0, false, 2},
		{rotate.StepCreate, "PutSecretValue", smfake.Throttle, 0, false, 2},
		{rotate.StepCreate, "PutSecretValue", smfake.FailAfter, 0, false, 1},
		{rotate.StepSet, "DescribeSecret", smfake.FailBefore, 0, false, 1},
		{rotate.StepTest, "GetSecretValue", smfake.FailBefore, 0, false, 1},
		{rotate.StepTest, "GetSecretValue", smfake.FailBefore, 1, false, 1},
		{rotate.StepFinish, "DescribeSecret", smfake.FailBefore, 0, false, 1},
		{rotate.StepFinish, "GetSecretValue", smfake.FailBefore, 0, false, 1},
		{rotate.StepFinish, "GetSecretValue", smfake.FailBefore, 1, false, 1},
		// The first update moves AWSCURRENT.
		{rotate.StepFinish, "UpdateSecretVersionStage", smfake.FailBefore, 0, false, 1},
		{rotate.StepFinish, "UpdateSecretVersionStage", smfake.FailAfter, 0, true, 1},
		// The second clears AWSPENDING, which elects the announcer: not
		// applied, the re-run announces; applied with the answer lost, the
		// labels show it and the step announces.
		{rotate.StepFinish, "UpdateSecretVersionStage", smfake.FailBefore, 1, false, 1},
		{rotate.StepFinish, "UpdateSecretVersionStage", smfake.Throttle, 1, false, 1},
		{rotate.StepFinish, "UpdateSecretVersionStage", smfake.FailAfter, 1, true, 1},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%s/%s/skip%d", tt.step, tt.op, tt.mode, tt.skip)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, b := pair(t), pair(t)
			f := newFixture(t, &keys.Set{Current: a, Next: b}, rotate.Options{})
			token := f.startRotation(t)
			for _, s := range allSteps {
				if s == tt.step {
					f.srv.FailLater(tt.op, tt.mode, tt.skip)
					err := f.step(token, s)
					if tt.recovers && err != nil {
						t.Fatalf("%s did not recover from the lost answer: %v", s, err)
					}
					if !tt.recovers && err == nil {
						t.Fatalf("%s succeeded despite the injected fault", s)
					}
					break
				}
				if err := f.step(token, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			wantFailures := 1
			if tt.recovers {
				wantFailures = 0
			}
			if n := len(f.emf.WithKey(t, "SPKeyRotationFailures")); n != wantFailures {
				t.Errorf("%d failure metrics, want %d", n, wantFailures)
			}
			if n := len(f.logs.WithMsg(t, "sp_key_rotation_failed")); n != wantFailures {
				t.Errorf("%d failure log events, want %d", n, wantFailures)
			}
			// Secrets Manager's retry: every step again, then once more.
			f.runAll(t, token)
			f.runAll(t, token)

			got := f.current(t)
			if kid(got.Previous) != a.Kid || got.Current.Kid != b.Kid || got.Next == nil || got.Next.Kid == a.Kid || got.Next.Kid == b.Kid {
				t.Errorf("final set = %s/%s/%s, want %s/%s/<new>", kid(got.Previous), kid(got.Current), kid(got.Next), a.Kid, b.Kid)
			}
			checkFinalVersions(t, f, token, true)
			if n := f.srv.Requests("PutSecretValue"); n != tt.wantPuts+1 { // +1: the fixture's initial put
				t.Errorf("%d pending puts, want %d", n-1, tt.wantPuts)
			}
			if n := len(f.logs.WithMsg(t, "sp_key_rotated")); n != 1 {
				t.Errorf("%d sp_key_rotated events, want 1", n)
			}
			if n := len(f.emf.WithKey(t, "SPKeyRotations")); n != 1 {
				t.Errorf("%d SPKeyRotations metrics, want 1", n)
			}
		})
	}
}

func TestFinishIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &keys.Set{Current: pair(t), Next: pair(t)}, rotate.Options{})
	token := f.startRotation(t)
	f.runAll(t, token)
	before := f.srv.Versions(secretName)
	updates, puts := f.srv.Requests("UpdateSecretVersionStage"), f.srv.Requests("PutSecretValue")
	emfLines := len(f.emf.Records(t))

	for range 3 {
		for _, s := range []string{rotate.StepFinish, rotate.StepCreate, rotate.StepTest, rotate.StepFinish} {
			if err := f.step(token, s); err != nil {
				t.Fatalf("re-run %s: %v", s, err)
			}
		}
	}
	if after := f.srv.Versions(secretName); !reflect.DeepEqual(before, after) {
		t.Errorf("versions changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if f.srv.Requests("UpdateSecretVersionStage") != updates || f.srv.Requests("PutSecretValue") != puts {
		t.Error("re-running a finished rotation wrote to Secrets Manager")
	}
	if len(f.emf.Records(t)) != emfLines || len(f.logs.WithMsg(t, "sp_key_rotated")) != 1 {
		t.Error("re-running a finished rotation announced it again")
	}
}

func TestTestSecretRejectsBadPendingVersion(t *testing.T) {
	t.Parallel()
	a, b, c := pair(t), pair(t), pair(t)
	expired := gen(t, testNow.Add(-48*time.Hour), 24*time.Hour)
	tests := []struct {
		name    string
		pending func(t *testing.T) string
	}{
		{"not JSON", func(*testing.T) string { return "not a key set" }},
		{"empty object", func(*testing.T) string { return "{}" }},
		{"kid does not match the key", func(t *testing.T) string {
			return strings.Replace(string(mustMarshal(t, &keys.Set{Previous: a, Current: b, Next: c})), c.Kid, a.Kid[:10]+c.Kid[10:], 1)
		}},
		{"expired certificate", func(t *testing.T) string {
			return string(mustMarshal(t, &keys.Set{Previous: a, Current: b, Next: expired}))
		}},
		{"not a rotation of the current version", func(t *testing.T) string {
			return string(mustMarshal(t, &keys.Set{Previous: c, Current: b, Next: pair(t)}))
		}},
		{"current is not the published next key", func(t *testing.T) string {
			return string(mustMarshal(t, &keys.Set{Previous: a, Current: c, Next: pair(t)}))
		}},
	}
	for _, be := range backends {
		for _, tt := range tests {
			t.Run(be.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := newFixtureOn(t, be, string(mustMarshal(t, &keys.Set{Current: a, Next: b})), rotate.Options{})
				token := f.startRotation(t)
				// Something other than createSecret filled the pending version.
				if _, err := f.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
					SecretId: aws.String(secretName), ClientRequestToken: aws.String(token),
					SecretString: aws.String(tt.pending(t)), VersionStages: []string{"AWSPENDING"},
				}); err != nil {
					t.Fatal(err)
				}
				if err := f.step(token, rotate.StepCreate); err != nil {
					t.Fatalf("createSecret must leave an existing pending value alone: %v", err)
				}
				for _, s := range []string{rotate.StepTest, rotate.StepFinish} {
					err := f.step(token, s)
					if !errors.Is(err, rotate.ErrTestFailed) {
						t.Fatalf("%s = %v, want ErrTestFailed", s, err)
					}
					var se *rotate.StepError
					if !errors.As(err, &se) || se.Step != s || se.SecretID != secretName {
						t.Errorf("%s: error %v is not a *StepError for the step", s, err)
					}
				}
				got := f.current(t)
				if got.Current.Kid != a.Kid || kid(got.Next) != b.Kid {
					t.Error("a rejected pending version became current")
				}
				if n := len(f.emf.WithKey(t, "SPKeyRotationFailures")); n != 2 {
					t.Errorf("%d failure metrics, want 2", n)
				}
				checkEMF(t, f.emf.WithKey(t, "SPKeyRotationFailures")[0], "SPKeyRotationFailures", "Count", 1, nil)
			})
		}
	}
}

func TestHandleRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, f *fixture) rotate.Event
		wantErr error
	}{
		{"missing fields", func(*testing.T, *fixture) rotate.Event {
			return rotate.Event{Step: rotate.StepCreate}
		}, rotate.ErrBadEvent},
		{"unknown step", func(t *testing.T, f *fixture) rotate.Event {
			return rotate.Event{SecretID: secretName, ClientRequestToken: f.startRotation(t), Step: "deleteSecret"}
		}, rotate.ErrBadEvent},
		{"rotation not enabled", func(t *testing.T, f *fixture) rotate.Event {
			tok := "99999999-9999-9999-9999-999999999999"
			if _, err := f.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
				SecretId: aws.String(secretName), ClientRequestToken: aws.String(tok),
				SecretString: aws.String("x"), VersionStages: []string{"AWSPENDING"},
			}); err != nil {
				t.Fatal(err)
			}
			return rotate.Event{SecretID: secretName, ClientRequestToken: tok, Step: rotate.StepCreate}
		}, rotate.ErrRotationDisabled},
		{"token is not a version", func(t *testing.T, f *fixture) rotate.Event {
			f.startRotation(t)
			return rotate.Event{SecretID: secretName, ClientRequestToken: "00000000-0000-0000-0000-000000000000", Step: rotate.StepCreate}
		}, rotate.ErrNotPending},
		{"token is the previous version", func(t *testing.T, f *fixture) rotate.Event {
			first := f.srv.Versions(secretName)[0].ID
			f.runAll(t, f.startRotation(t))
			return rotate.Event{SecretID: secretName, ClientRequestToken: first, Step: rotate.StepFinish}
		}, rotate.ErrNotPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, &keys.Set{Current: pair(t), Next: pair(t)}, rotate.Options{})
			ev := tt.prepare(t, f)
			err := f.rot.Handle(context.Background(), ev)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Handle = %v, want %v", err, tt.wantErr)
			}
			if len(f.emf.WithKey(t, "SPKeyRotationFailures")) != 1 || len(f.logs.WithMsg(t, "sp_key_rotation_failed")) != 1 {
				t.Error("a rejected invocation was not logged and counted")
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, rotate.Options{})
	tests := []struct {
		name string
		api  rotate.SecretsAPI
		opts rotate.Options
	}{
		{"nil API", nil, rotate.Options{EMF: &bytes.Buffer{}}},
		{"nil EMF writer", f.client, rotate.Options{}},
		{"negative validity", f.client, rotate.Options{EMF: &bytes.Buffer{}, Validity: -time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := rotate.New(tt.api, tt.opts); err == nil {
				t.Fatal("New succeeded, want error")
			}
		})
	}
}
