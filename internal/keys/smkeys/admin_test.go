package smkeys_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
)

func (f *fixture) admin(t *testing.T) *smkeys.Admin {
	t.Helper()
	a, err := smkeys.NewAdmin(f.client, secretName, f.clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// labels returns the staging labels by version ID.
func (f *fixture) labels(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, v := range f.srv.Versions(secretName) {
		out[v.ID] = v.Stages
	}
	return out
}

// TestAdminRotateNow: a new AWSCURRENT version with a fresh current and
// next key; the old version keeps AWSPREVIOUS; a running source sees the
// new key after its TTL; no label is left behind.
func TestAdminRotateNow(t *testing.T) {
	t.Parallel()
	for _, retire := range []bool{false, true} {
		f := newFixture(t)
		first := ecSet(t, f.clock.Now())
		f.put(t, first)
		oldID := f.srv.Versions(secretName)[0].ID
		src := f.source(t, smkeys.Options{TTL: time.Minute})
		ctx := context.Background()
		if _, err := src.Keys(ctx); err != nil {
			t.Fatal(err)
		}
		ch, err := f.admin(t).RotateNow(ctx, retire)
		if err != nil {
			t.Fatal(err)
		}
		if ch.CancelledRotation != "" {
			t.Errorf("cancelled a rotation that did not exist: %s", ch.CancelledRotation)
		}
		labels := f.labels(t)
		if !slices.Equal(labels[ch.VersionID], []string{"AWSCURRENT"}) || !slices.Equal(labels[oldID], []string{"AWSPREVIOUS"}) {
			t.Errorf("labels = %v", labels)
		}
		f.clock.Advance(time.Minute)
		set, err := src.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if set.Current.Kid != ch.Set.Current.Kid || set.Current.Kid == first.Next.Kid || set.ByKid(first.Next.Kid) != nil {
			t.Errorf("retire=%v: served %s, want the new key %s and no old next key", retire, set.Current.Kid, ch.Set.Current.Kid)
		}
		if got := set.ByKid(first.Current.Kid) != nil; got == retire {
			t.Errorf("retire=%v: old current key verifies = %v", retire, got)
		}
	}
}

func TestAdminRevoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := ecSet(t, f.clock.Now())
	rotated := first.Rotate(ecSet(t, f.clock.Now()).Current, f.clock.Now())
	f.put(t, rotated)
	ctx := context.Background()
	a := f.admin(t)
	versions := len(f.srv.Versions(secretName))
	if _, err := a.Revoke(ctx, rotated.Current.Kid); !errors.Is(err, keys.ErrRevokeCurrent) {
		t.Errorf("revoke current = %v, want ErrRevokeCurrent", err)
	}
	if _, err := a.Revoke(ctx, "not-a-kid"); !errors.Is(err, keys.ErrUnknownKid) {
		t.Errorf("revoke unknown = %v, want ErrUnknownKid", err)
	}
	if n := len(f.srv.Versions(secretName)); n != versions {
		t.Errorf("a refused revoke wrote %d versions", n-versions)
	}
	ch, err := a.Revoke(ctx, rotated.Previous.Kid)
	if err != nil {
		t.Fatal(err)
	}
	src := f.source(t, smkeys.Options{})
	set, err := src.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if set.ByKid(rotated.Previous.Kid) != nil || set.Current.Kid != rotated.Current.Kid || set.Next.Kid != rotated.Next.Kid {
		t.Error("revoke of the previous key did not reach readers, or changed other keys")
	}
	if _, err := src.KeyForKid(ctx, rotated.Previous.Kid); !errors.Is(err, keys.ErrUnknownKid) {
		t.Errorf("KeyForKid(revoked) = %v", err)
	}
	if !slices.Equal(f.labels(t)[ch.VersionID], []string{"AWSCURRENT"}) {
		t.Errorf("labels = %v", f.labels(t))
	}
	ch, err = a.Revoke(ctx, rotated.Next.Kid)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Set.Next == nil || ch.Set.Next.Kid == rotated.Next.Kid {
		t.Error("revoking the next key did not publish a new one")
	}
}

// TestAdminCancelsUnfinishedRotation: a rotation started from the replaced
// set loses its AWSPENDING label, so it can neither complete later with
// keys from the old set nor block the next rotation.
func TestAdminCancelsUnfinishedRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.put(t, ecSet(t, f.clock.Now()))
	ctx := context.Background()
	out, err := f.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String(secretName), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:rotate"),
	})
	if err != nil {
		t.Fatal(err)
	}
	pending := aws.ToString(out.VersionId)
	ch, err := f.admin(t).RotateNow(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if ch.CancelledRotation != pending {
		t.Errorf("CancelledRotation = %q, want %q", ch.CancelledRotation, pending)
	}
	if slices.Contains(f.labels(t)[pending], "AWSPENDING") {
		t.Error("the unfinished rotation is still pending")
	}
	if _, err := f.admin(t).StartRotation(ctx); err != nil {
		t.Errorf("a new rotation cannot start: %v", err)
	}
}

// TestAdminRefusesConcurrentChange: when AWSCURRENT moves between the
// admin's read and its write (a rotation finished), the admin's version
// does not become current and the error says why.
func TestAdminRefusesConcurrentChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.put(t, ecSet(t, f.clock.Now()))
	ctx := context.Background()
	p := f.srv.Pause("PutSecretValue", smfake.AfterApply, 0)
	done := make(chan error, 1)
	go func() {
		_, err := f.admin(t).RotateNow(ctx, false)
		done <- err
	}()
	select {
	case <-p.Reached():
	case <-time.After(10 * time.Second):
		t.Fatal("admin never wrote")
	}
	// Another writer makes its own version current in the window.
	other := ecSet(t, f.clock.Now())
	b, err := keys.MarshalSet(other)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = f.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretName), SecretString: aws.String(string(b))})
		p.Release()
	}()
	err = <-done
	if !errors.Is(err, smkeys.ErrConcurrentChange) {
		t.Fatalf("RotateNow = %v, want ErrConcurrentChange", err)
	}
	cur, _, err := f.admin(t).Stored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Current.Kid != other.Current.Kid {
		t.Error("the concurrent writer's version was replaced")
	}
	for id, st := range f.labels(t) {
		if slices.Contains(st, smkeys.StageStaged) {
			t.Errorf("version %s keeps the %s label", id, smkeys.StageStaged)
		}
	}
}

func TestAdminEmptySecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.admin(t).RotateNow(context.Background(), false); !errors.Is(err, keys.ErrNoKeys) {
		t.Errorf("RotateNow on an empty secret = %v, want ErrNoKeys", err)
	}
}
