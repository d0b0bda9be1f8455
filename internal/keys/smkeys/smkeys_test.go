package smkeys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
)

const secretName = "samlflex/sp-keys"

func TestSeedOnEmptySecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	src := f.source(t, smkeys.Options{SeedIfEmpty: true})
	set, err := src.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if set.Current == nil || set.Next == nil || set.Previous != nil {
		t.Fatal("seeded set must hold current and next")
	}
	versions := f.srv.Versions(secretName)
	if len(versions) != 1 || versions[0].ID != smkeys.SeedToken(secretName) || strings.Join(versions[0].Stages, ",") != "AWSCURRENT" {
		t.Fatalf("versions after seeding = %+v", versions)
	}
	// A reader that may not seed sees the same keys.
	reader := f.source(t, smkeys.Options{})
	got, err := reader.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Current.Kid != set.Current.Kid || got.Next.Kid != set.Next.Kid {
		t.Error("the stored set differs from the seeded one")
	}
	if set.Current.Token == nil || set.Next.Token == nil || got.Current.Token == nil || got.Current.Token.Kid != set.Current.Token.Kid {
		t.Error("the seeded set lacks its session-token keys")
	}
	if len(f.logs.WithMsg(t, "sp_keys_seeded")) != 1 {
		t.Error("seeding was not logged")
	}
}

func TestConcurrentSeedingConverges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 3
	srcs := make([]*smkeys.Source, n)
	for i := range srcs {
		srcs[i] = f.source(t, smkeys.Options{SeedIfEmpty: true})
	}
	kids := keysAtOnce(t, srcs)()
	for i := 1; i < n; i++ {
		if kids[i] != kids[0] {
			t.Fatalf("cold starts seeding at once disagree on the current key: %v", kids)
		}
	}
	if v := f.srv.Versions(secretName); len(v) != 1 {
		t.Errorf("%d versions, want 1 (the shared seed token)", len(v))
	}
}

func TestEmptyOrMissingWithoutSeed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		secretID string
		prepare  func(t *testing.T, f *fixture)
		seed     bool
		wantErr  error
	}{
		{"no value, seeding off", secretName, func(*testing.T, *fixture) {}, false, keys.ErrNoKeys},
		{"placeholder {} value, seeding off", secretName, func(t *testing.T, f *fixture) {
			if _, err := f.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretName), SecretString: aws.String("{}")}); err != nil {
				t.Fatal(err)
			}
		}, false, keys.ErrNoKeys},
		{"secret does not exist, seeding on", "samlflex/missing", func(*testing.T, *fixture) {}, true, keys.ErrNoKeys},
		{"corrupt value", secretName, func(t *testing.T, f *fixture) {
			if _, err := f.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretName), SecretString: aws.String(`{"current": {"kid": "k", "private_key": "TOPSECRET", "certificate": ""}}`)}); err != nil {
				t.Fatal(err)
			}
		}, true, keys.ErrInvalidSet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.prepare(t, f)
			src, err := smkeys.New(f.client, tt.secretID, smkeys.Options{SeedIfEmpty: tt.seed, Now: f.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Keys(context.Background())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Keys = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Error("the error quotes the secret value")
			}
		})
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	first := ecSet(t, f.clock.Now())
	f.put(t, first)
	src := f.source(t, smkeys.Options{TTL: 5 * time.Minute})

	if _, err := src.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.Requests("GetSecretValue"); got != 1 {
		t.Fatalf("cold Keys made %d requests, want 1", got)
	}
	// Warm calls from many goroutines make no API call.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := src.Keys(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f.clock.Advance(5*time.Minute - time.Second)
	if _, err := src.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.Requests("GetSecretValue"); got != 1 {
		t.Fatalf("warm Keys made API calls: %d requests in total, want 1", got)
	}

	// After the TTL a rotation becomes visible with one request.
	rotated := first.Rotate(ecSet(t, f.clock.Now()).Current, f.clock.Now())
	f.put(t, rotated)
	f.clock.Advance(time.Second)
	set, err := src.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if set.Current.Kid != rotated.Current.Kid {
		t.Error("the set was not refreshed after the TTL")
	}
	if got := f.srv.Requests("GetSecretValue"); got != 2 {
		t.Errorf("%d GetSecretValue requests, want 2", got)
	}
}

// gatedAPI blocks GetSecretValue until release is closed, to hold a
// refresh open while other goroutines arrive.
type gatedAPI struct {
	smkeys.API
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func (g *gatedAPI) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.mu.Lock()
	g.calls++
	first := g.calls == 1
	g.mu.Unlock()
	if first {
		close(g.entered)
	}
	<-g.release
	return g.API.GetSecretValue(ctx, in, opts...)
}

func TestOneRefreshAtATime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.put(t, ecSet(t, f.clock.Now()))
	api := &gatedAPI{API: f.client, entered: make(chan struct{}), release: make(chan struct{})}
	src, err := smkeys.New(api, secretName, smkeys.Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	wait := keysAtOnce(t, slices.Repeat([]*smkeys.Source{src}, n))
	<-api.entered
	close(api.release)
	wait()
	// Every caller either joined the fetch in flight or found the fresh
	// cache it left: one call, whatever the scheduling.
	if api.calls != 1 {
		t.Errorf("%d concurrent cold calls made %d fetches, want 1", n, api.calls)
	}
}

func TestKeyForKid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	first := ecSet(t, f.clock.Now())
	f.put(t, first)
	src := f.source(t, smkeys.Options{})

	// Known kids (current and next) come from the cache.
	for _, p := range first.Verifying() {
		got, err := src.KeyForKid(ctx, p.Kid)
		if err != nil || got.Kid != p.Kid {
			t.Fatalf("KeyForKid(%s) = %v, %v", p.Kid, got, err)
		}
	}
	if got := f.srv.Requests("GetSecretValue"); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}

	// Another instance rotated: the new next key is unknown here until a
	// refresh, which the unknown kid triggers at once (TTL not expired).
	rotated := first.Rotate(ecSet(t, f.clock.Now()).Current, f.clock.Now())
	f.put(t, rotated)
	got, err := src.KeyForKid(ctx, rotated.Next.Kid)
	if err != nil || got.Kid != rotated.Next.Kid {
		t.Fatalf("KeyForKid(new next) = %v, %v", got, err)
	}
	if got := f.srv.Requests("GetSecretValue"); got != 2 {
		t.Fatalf("%d GetSecretValue requests, want 2", got)
	}

	// Made-up kids cannot make us hammer Secrets Manager: within 30s of
	// the last kid refresh, no request.
	for range 10 {
		if _, err := src.KeyForKid(ctx, "made-up"); !errors.Is(err, keys.ErrUnknownKid) {
			t.Fatalf("KeyForKid(made-up) = %v, want ErrUnknownKid", err)
		}
	}
	if got := f.srv.Requests("GetSecretValue"); got != 2 {
		t.Fatalf("unknown kids within the rate limit made requests: %d, want 2", got)
	}
	f.clock.Advance(30 * time.Second)
	if _, err := src.KeyForKid(ctx, "made-up"); !errors.Is(err, keys.ErrUnknownKid) {
		t.Fatalf("KeyForKid(made-up) = %v", err)
	}
	if got := f.srv.Requests("GetSecretValue"); got != 3 {
		t.Errorf("after the rate-limit interval: %d requests, want 3", got)
	}
}

func TestServesCachedSetWhileSecretsManagerIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	want := ecSet(t, f.clock.Now())
	f.put(t, want)
	src := f.source(t, smkeys.Options{TTL: time.Minute, RetryAfterFailure: 30 * time.Second})
	if _, err := src.Keys(ctx); err != nil {
		t.Fatal(err)
	}

	f.srv.SetDown(true)
	f.clock.Advance(2 * time.Minute)
	got, err := src.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys while down = %v, want the cached set", err)
	}
	if got.Current.Kid != want.Current.Kid {
		t.Error("served a different set")
	}
	warns := f.logs.WithMsg(t, "sp_keys_stale")
	if len(warns) != 1 || warns[0]["level"] != "WARN" {
		t.Fatalf("want one WARN sp_keys_stale event, got %v", warns)
	}
	// During the outage, requests are not each slowed by a failing call.
	before := f.srv.Requests("")
	f.clock.Advance(29 * time.Second)
	if _, err := src.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	if f.srv.Requests("") != before {
		t.Error("retried Secrets Manager before RetryAfterFailure")
	}
	// Recovery: the next attempt refreshes.
	f.srv.SetDown(false)
	f.clock.Advance(time.Second)
	if _, err := src.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	if f.srv.Requests("") != before+1 {
		t.Error("did not refresh after recovery")
	}
}

func TestColdStartWhileSecretsManagerIsDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.put(t, ecSet(t, f.clock.Now()))
	src := f.source(t, smkeys.Options{SeedIfEmpty: true})
	f.srv.SetDown(true)
	_, err := src.Keys(context.Background())
	if !errors.Is(err, keys.ErrUnavailable) {
		t.Fatalf("Keys = %v, want ErrUnavailable", err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		t.Error("an SDK error type escaped smkeys")
	}
	if len(f.srv.Versions(secretName)) != 1 {
		t.Error("an outage must never lead to seeding over an existing secret")
	}
}

func TestSeedToken(t *testing.T) {
	t.Parallel()
	tok := smkeys.SeedToken(secretName)
	if len(tok) != 36 || tok != smkeys.SeedToken(secretName) || tok == smkeys.SeedToken("other") {
		t.Errorf("SeedToken = %q: want a stable 36-character token per secret", tok)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name     string
		api      smkeys.API
		secretID string
		opts     smkeys.Options
	}{
		{"nil client", nil, secretName, smkeys.Options{}},
		{"empty secret ID", f.client, " ", smkeys.Options{}},
		{"negative TTL", f.client, secretName, smkeys.Options{TTL: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := smkeys.New(tt.api, tt.secretID, tt.opts); err == nil {
				t.Fatal("New succeeded, want error")
			}
		})
	}
}

// keysAtOnce calls Keys on every source, each from its own goroutine, all at
// once. The returned wait blocks until every call has returned and gives
// each call's current kid, in the order of srcs; a failed call fails t.
func keysAtOnce(t *testing.T, srcs []*smkeys.Source) (wait func() []string) {
	t.Helper()
	kids := make([]string, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			set, err := src.Keys(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = set.Current.Kid
		}()
	}
	return func() []string { wg.Wait(); return kids }
}
