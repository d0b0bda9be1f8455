package smfake_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
)

const lambdaARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate"

// newRotatingSecret makes "s" with tok1 AWSPREVIOUS ("v1"), tok2 AWSCURRENT
// ("v2") and tok3 AWSPENDING ("v3", filled the way createSecret does).
func newRotatingSecret(t *testing.T, srv *smfake.Server, c *secretsmanager.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct{ tok, val string }{{tok1, "v1"}, {tok2, "v2"}} {
		if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(v.tok), SecretString: aws.String(v.val)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok3), RotationLambdaARN: aws.String(lambdaARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok3), SecretString: aws.String("v3"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
}

// TestPutSecretValueRepeatedToken pins the ClientRequestToken rule of
// PutSecretValue on versions in every role: the same data again is a no-op
// that returns the existing version (no new version, labels untouched, even
// when the request names other labels); other data is refused with
// ResourceExistsException, because versions are immutable.
func TestPutSecretValueRepeatedToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		str        *string
		bin        []byte
		stages     []string
		wantErr    string // "" = the idempotent no-op
		wantStages []string
	}{
		{"pending version, same value", tok3, aws.String("v3"), nil, []string{"AWSPENDING"}, "", []string{"AWSPENDING"}},
		{"pending version, same value, other labels asked", tok3, aws.String("v3"), nil, []string{"AWSCURRENT"}, "", []string{"AWSPENDING"}},
		{"pending version, other value", tok3, aws.String("another key set"), nil, []string{"AWSPENDING"}, "ResourceExistsException", nil},
		{"pending version, same bytes as binary", tok3, nil, []byte("v3"), []string{"AWSPENDING"}, "ResourceExistsException", nil},
		{"current version, same value", tok2, aws.String("v2"), nil, nil, "", []string{"AWSCURRENT"}},
		{"current version, other value", tok2, aws.String("x"), nil, nil, "ResourceExistsException", nil},
		{"previous version, same value", tok1, aws.String("v1"), nil, []string{"AWSPENDING"}, "", []string{"AWSPREVIOUS"}},
		{"previous version, other value", tok1, aws.String("x"), nil, []string{"AWSPENDING"}, "ResourceExistsException", nil},
		{"malformed request is refused first", tok3, aws.String("v3"), []byte("v3"), nil, "InvalidParameterException", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := smfake.New(t)
			c := newClient(srv, 1)
			newRotatingSecret(t, srv, c)
			before := srv.Versions("s")

			out, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
				SecretId: aws.String("s"), ClientRequestToken: aws.String(tt.token),
				SecretString: tt.str, SecretBinary: tt.bin, VersionStages: tt.stages,
			})
			if got := errCode(err); got != tt.wantErr {
				t.Fatalf("error = %v, want code %q", err, tt.wantErr)
			}
			if tt.wantErr == "ResourceExistsException" {
				var exists *types.ResourceExistsException
				if !errors.As(err, &exists) || exists.ErrorMessage() != "You can't modify an existing version, you can only create a new version." {
					t.Errorf("error = %v, want the service's ResourceExistsException message", err)
				}
			}
			if tt.wantErr == "" {
				if aws.ToString(out.VersionId) != tt.token || !reflect.DeepEqual(out.VersionStages, tt.wantStages) {
					t.Errorf("answer = %s %v, want the existing version %s %v", aws.ToString(out.VersionId), out.VersionStages, tt.token, tt.wantStages)
				}
			}
			if after := srv.Versions("s"); !reflect.DeepEqual(before, after) {
				t.Errorf("versions changed:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestPendingLabelOnOneVersion: AWSPENDING, like every label, is on one
// version at a time. PutSecretValue naming it takes it from the holder (as
// the API reference says for VersionStages); UpdateSecretVersionStage moves
// it only if RemoveFromVersionId names the holder.
func TestPendingLabelOnOneVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := smfake.New(t)
	c := newClient(srv, 1)
	newRotatingSecret(t, srv, c)
	tok4 := "44444444-4444-4444-4444-444444444444"

	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok4), SecretString: aws.String("v4"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	st := stagesOf(t, c, "s")
	if !reflect.DeepEqual(st[tok4], []string{"AWSPENDING"}) || len(st[tok3]) != 0 {
		t.Fatalf("after putting tok4 as AWSPENDING: %v, want the label moved from tok3", st)
	}

	// Moving it back must name the holder.
	for _, tt := range []struct {
		name, removeFrom, wantErr string
	}{
		{"no RemoveFromVersionId", "", "InvalidParameterException"},
		{"RemoveFromVersionId is not the holder", tok2, "InvalidParameterException"},
		{"RemoveFromVersionId is the holder", tok4, ""},
		{"label already there, stale RemoveFromVersionId", tok4, "InvalidParameterException"},
	} {
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING"), MoveToVersionId: aws.String(tok3)}
		if tt.removeFrom != "" {
			in.RemoveFromVersionId = aws.String(tt.removeFrom)
		}
		_, err := c.UpdateSecretVersionStage(ctx, in)
		if got := errCode(err); got != tt.wantErr {
			t.Errorf("%s: error %v, want code %q", tt.name, err, tt.wantErr)
		}
	}
	st = stagesOf(t, c, "s")
	if !reflect.DeepEqual(st[tok3], []string{"AWSPENDING"}) || len(st[tok4]) != 0 {
		t.Errorf("after moving AWSPENDING back: %v", st)
	}
	// Removing a label from a version that does not carry it fails: the
	// condition two concurrent "clear AWSPENDING" calls are decided by.
	for i, want := range []string{"", "InvalidParameterException"} {
		_, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(tok3)})
		if got := errCode(err); got != want {
			t.Errorf("removal %d: error %v, want code %q", i+1, err, want)
		}
	}
}

// TestConcurrentPuts races clients on one token, as concurrent createSecret
// invocations do: with different values exactly one wins and one version
// exists; with the same value all succeed and one version exists.
func TestConcurrentPuts(t *testing.T) {
	t.Parallel()
	const n = 8
	for _, same := range []bool{false, true} {
		t.Run(fmt.Sprintf("same value %v", same), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := smfake.New(t)
			setup := newClient(srv, 1)
			if _, err := setup.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v0")}); err != nil {
				t.Fatal(err)
			}
			if _, err := setup.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok3), RotationLambdaARN: aws.String(lambdaARN)}); err != nil {
				t.Fatal(err)
			}
			start := make(chan struct{})
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				c := newClient(srv, 1) // one client per caller, as Lambda instances have
				val := "same"
				if !same {
					val = fmt.Sprintf("value %d", i)
				}
				wg.Go(func() {
					<-start
					_, errs[i] = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok3), SecretString: aws.String(val), VersionStages: []string{"AWSPENDING"}})
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				var exists *types.ResourceExistsException
				switch {
				case err == nil:
					ok++
				case !errors.As(err, &exists):
					t.Errorf("unexpected error %v", err)
				}
			}
			want := 1
			if same {
				want = n
			}
			if ok != want {
				t.Errorf("%d puts succeeded, want %d", ok, want)
			}
			versions := srv.Versions("s")
			if len(versions) != 2 || !versions[1].HasValue || !reflect.DeepEqual(versions[1].Stages, []string{"AWSPENDING"}) {
				t.Errorf("versions = %+v, want the current one and one pending one", versions)
			}
		})
	}
}

// TestPause holds a request before and after it is applied and checks what
// another client sees in the meantime.
func TestPause(t *testing.T) {
	t.Parallel()
	for _, point := range []smfake.PausePoint{smfake.BeforeApply, smfake.AfterApply} {
		t.Run(point.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := smfake.New(t)
			a, b := newClient(srv, 1), newClient(srv, 1)
			if _, err := a.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s")}); err != nil {
				t.Fatal(err)
			}
			put := func(c *secretsmanager.Client, tok string) error {
				_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok), SecretString: aws.String(tok)})
				return err
			}
			// The first put passes (skip 1); the second is held.
			p := srv.Pause("PutSecretValue", point, 1)
			if err := put(a, tok1); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- put(a, tok2) }()
			select {
			case <-p.Reached():
			case <-time.After(10 * time.Second):
				t.Fatal("the paused request never arrived")
			}
			// Another client goes on while a waits.
			out, err := b.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
			if err != nil {
				t.Fatal(err)
			}
			want := tok1
			if point == smfake.AfterApply {
				want = tok2
			}
			if got := aws.ToString(out.SecretString); got != want {
				t.Errorf("while paused %s, current = %s, want %s", point, got, want)
			}
			select {
			case err := <-done:
				t.Fatalf("the paused put returned early: %v", err)
			default:
			}
			p.Release()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if n := len(srv.Versions("s")); n != 2 {
				t.Errorf("%d versions, want 2", n)
			}
		})
	}
	// A pause nobody releases does not hang the server's Close.
	t.Run("released at cleanup", func(t *testing.T) {
		t.Parallel()
		done := make(chan error, 1)
		// Registered first, so it runs last: after the pause's release.
		t.Cleanup(func() {
			var ae smithy.APIError
			if err := <-done; !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
				t.Errorf("after cleanup: %v, want the ResourceNotFound answer", err)
			}
		})
		srv := smfake.New(t)
		c := newClient(srv, 1)
		p := srv.Pause("DescribeSecret", smfake.BeforeApply, 0)
		go func() {
			_, err := c.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
			done <- err
		}()
		<-p.Reached()
	})
}
