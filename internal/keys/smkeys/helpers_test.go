package smkeys_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

// newClock is a settable Now for one test.
func newClock() *samlflextest.ManualClock {
	return samlflextest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// newClient is the real SDK client pointed at the fake: one attempt, so
// that request counts are exact (except for a connection closed by net/http
// itself, which no test injects; see testretry).
func newClient(srv *smfake.Server) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       smfake.Region,
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSMFAKE", "smfake-secret", ""),
		Retryer:      testretry.OneAttempt(),
	})
}

type fixture struct {
	srv    *smfake.Server
	client *secretsmanager.Client
	clock  *samlflextest.ManualClock
	logs   *samlflextest.LogBuffer
	logger *slog.Logger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := smfake.New(t)
	logs := &samlflextest.LogBuffer{}
	f := &fixture{srv: srv, client: newClient(srv), clock: newClock(), logs: logs,
		logger: slog.New(slog.NewJSONHandler(logs, nil))}
	srv.SetNow(f.clock.Now)
	if _, err := f.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(secretName)}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) source(t *testing.T, opts smkeys.Options) *smkeys.Source {
	t.Helper()
	opts.Now = f.clock.Now
	opts.Logger = f.logger
	s, err := smkeys.New(f.client, secretName, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put stores set as the new AWSCURRENT version.
func (f *fixture) put(t *testing.T, set *keys.Set) {
	t.Helper()
	b, err := keys.MarshalSet(set)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secretName), SecretString: aws.String(string(b)),
	}); err != nil {
		t.Fatal(err)
	}
}

// ecSet is a quick set (P-256 generates in microseconds).
func ecSet(t *testing.T, now time.Time) *keys.Set {
	t.Helper()
	gen := func() *keys.Pair {
		p, err := keys.Generate(keys.P256, now, 365*24*time.Hour, "test SP", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return &keys.Set{Current: gen(), Next: gen()}
}
