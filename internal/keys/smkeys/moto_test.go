package smkeys_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/moto"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
)

// motoServer is an independent Secrets Manager emulator, so that the
// admin writes are checked against a second implementation of the
// staging-label rules, not only against smfake, which was written with the
// same reading of them.
var motoServer moto.Shared

func TestMain(m *testing.M) { os.Exit(motoServer.Run(m)) }

// racingAPI makes another writer's version AWSCURRENT right before the
// admin's PutSecretValue, as a rotation finishing at that moment would.
type racingAPI struct {
	*secretsmanager.Client
	before func(ctx context.Context)
}

func (r racingAPI) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opt ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	if r.before != nil {
		r.before(ctx)
	}
	return r.Client.PutSecretValue(ctx, in, opt...)
}

func TestAdminAgainstMoto(t *testing.T) {
	t.Parallel()
	srv := motoServer.Get(t)
	client := secretsmanager.New(secretsmanager.Options{
		Region: moto.Region, BaseEndpoint: aws.String(srv.URL()), HTTPClient: srv.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	newSecret := func(t *testing.T, name string) *keys.Set {
		t.Helper()
		first := ecSet(t, now)
		set := first.Rotate(ecSet(t, now).Current, now)
		b, err := keys.MarshalSet(set)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))}); err != nil {
			t.Fatal(err)
		}
		return set
	}
	labels := func(t *testing.T, name string) map[string][]string {
		t.Helper()
		out, err := client.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return out.VersionIdsToStages
	}
	admin := func(t *testing.T, api smkeys.AdminAPI, name string) *smkeys.Admin {
		t.Helper()
		a, err := smkeys.NewAdmin(api, name, func() time.Time { return now }, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ctx := context.Background()

	t.Run("rotate now, then revoke", func(t *testing.T) {
		t.Parallel()
		const name = "moto-rotate-now"
		set := newSecret(t, name)
		oldID := ""
		for id, st := range labels(t, name) {
			if slices.Contains(st, "AWSCURRENT") {
				oldID = id
			}
		}
		a := admin(t, client, name)
		ch, err := a.RotateNow(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		l := labels(t, name)
		if !slices.Equal(l[ch.VersionID], []string{"AWSCURRENT"}) || !slices.Equal(l[oldID], []string{"AWSPREVIOUS"}) {
			t.Errorf("labels = %v", l)
		}
		got, _, err := a.Stored(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Current.Kid != ch.Set.Current.Kid || got.Previous.Kid != set.Current.Kid || got.ByKid(set.Next.Kid) != nil {
			t.Errorf("stored set after rotate --now is wrong")
		}
		if _, err := a.Revoke(ctx, got.Previous.Kid); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := a.Stored(ctx); got.Previous != nil {
			t.Error("revoked previous key still stored")
		}
	})

	t.Run("cancels an unfinished rotation", func(t *testing.T) {
		t.Parallel()
		const name = "moto-cancel-pending"
		newSecret(t, name)
		const pending = "11111111-2222-4333-8444-555555555555"
		if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(name), ClientRequestToken: aws.String(pending),
			SecretString: aws.String("{}"), VersionStages: []string{"AWSPENDING"},
		}); err != nil {
			t.Fatal(err)
		}
		ch, err := admin(t, client, name).RotateNow(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if ch.CancelledRotation != pending || slices.Contains(labels(t, name)[pending], "AWSPENDING") {
			t.Errorf("pending rotation not cancelled: %q, labels %v", ch.CancelledRotation, labels(t, name))
		}
	})

	t.Run("a concurrent change wins", func(t *testing.T) {
		t.Parallel()
		const name = "moto-concurrent"
		newSecret(t, name)
		other := ecSet(t, now)
		b, err := keys.MarshalSet(other)
		if err != nil {
			t.Fatal(err)
		}
		api := racingAPI{Client: client, before: func(ctx context.Context) {
			if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(string(b))}); err != nil {
				t.Error(err)
			}
		}}
		_, err = admin(t, api, name).RotateNow(ctx, false)
		if !errors.Is(err, smkeys.ErrConcurrentChange) {
			t.Fatalf("RotateNow = %v, want ErrConcurrentChange", err)
		}
		got, _, err := admin(t, client, name).Stored(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Current.Kid != other.Current.Kid {
			t.Error("the concurrent writer's set was replaced")
		}
		for id, st := range labels(t, name) {
			if slices.Contains(st, smkeys.StageStaged) {
				t.Errorf("version %s keeps %s", id, smkeys.StageStaged)
			}
		}
	})
}
