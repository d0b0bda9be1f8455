package rotate_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/rotate"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

type fixture struct {
	*service
	client *secretsmanager.Client
	logs   *samlflextest.LogBuffer
	emf    *samlflextest.LogBuffer
	rot    *rotate.Rotator
	opts   rotate.Options // as given to rot, defaults filled
}

// newSDKClient is the real SDK client pointed at srv. Retries (attempts > 1)
// do not sleep.
func newSDKClient(srv *smfake.Server, attempts int) *secretsmanager.Client {
	return sdkClient(srv.URL(), nil, attempts)
}

// sdkClient is the real SDK client for endpoint, sending with hc (nil: the
// SDK's default). Retries (attempts > 1) do not sleep. With attempts 1 (the
// faults a test injects reach Handle) it still retries a connection closed
// by net/http itself, which no test injects (see testretry).
func sdkClient(endpoint string, hc *http.Client, attempts int) *secretsmanager.Client {
	o := secretsmanager.Options{
		Region:       smfake.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSMFAKE", "smfake-secret", ""),
		Retryer:      testretry.Attempts(attempts),
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return secretsmanager.New(o)
}

// newFixture creates the secret, with initial as its current value unless
// nil. The SDK client makes one attempt, so injected faults reach Handle.
func newFixture(t *testing.T, initial *keys.Set, opts rotate.Options) *fixture {
	t.Helper()
	raw := ""
	if initial != nil {
		raw = string(mustMarshal(t, initial))
	}
	return newFixtureRaw(t, raw, opts)
}

// newFixtureRaw creates the secret with raw as its current value, or with
// no value if raw is "".
func newFixtureRaw(t *testing.T, raw string, opts rotate.Options) *fixture {
	t.Helper()
	return newFixtureOn(t, smfakeBackend, raw, opts)
}

// newFixtureOn is newFixtureRaw on backend b.
func newFixtureOn(t *testing.T, b secretsBackend, raw string, opts rotate.Options) *fixture {
	t.Helper()
	svc := b.open(t)
	f := &fixture{
		service: svc,
		client:  svc.newClient(1),
		logs:    &samlflextest.LogBuffer{},
		emf:     &samlflextest.LogBuffer{},
	}
	ctx := context.Background()
	if _, err := f.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secretName)}); err != nil {
		t.Fatal(err)
	}
	svc.enableRotation(t, f.client)
	if raw != "" {
		if _, err := f.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(secretName), SecretString: aws.String(raw),
		}); err != nil {
			t.Fatal(err)
		}
	}
	opts.Logger = slog.New(slog.NewJSONHandler(f.logs, nil))
	opts.EMF = f.emf
	opts.Now = func() time.Time { return testNow }
	if opts.Algorithm == "" {
		opts.Algorithm = keys.P256 // fast; TestDefaultAlgorithm covers RSA
	}
	rot, err := rotate.New(f.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.rot, f.opts = rot, opts
	return f
}

// instance is another Lambda instance of the rotation function: its own
// SDK client (its own connections and retries) and Rotator, writing to the
// fixture's log and EMF sinks so that counts there are totals.
func (f *fixture) instance(t *testing.T, attempts int) *rotate.Rotator {
	t.Helper()
	rot, err := rotate.New(f.newClient(attempts), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return rot
}

func handle(rot *rotate.Rotator, token, step string) error {
	return rot.Handle(context.Background(), rotate.Event{SecretID: secretName, ClientRequestToken: token, Step: step})
}

// startRotation does what RotateSecret does before invoking the function:
// stage an empty AWSPENDING version. It returns its ID (the token).
func (f *fixture) startRotation(t *testing.T) string {
	t.Helper()
	return f.service.startRotation(t, f.client)
}

func (f *fixture) step(token, step string) error { return handle(f.rot, token, step) }

// runAll invokes the four steps in order, as Secrets Manager does.
func (f *fixture) runAll(t *testing.T, token string) {
	t.Helper()
	f.runSteps(t, token, allSteps)
}

// runSteps invokes steps in order; any failure fails t.
func (f *fixture) runSteps(t *testing.T, token string, steps []string) {
	t.Helper()
	for _, s := range steps {
		if err := f.step(token, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rotationPast starts a rotation of a fresh two-key set and runs steps; it
// returns the fixture, the rotation's token and the set it started from.
func rotationPast(t *testing.T, steps []string) (*fixture, string, *keys.Set) {
	t.Helper()
	initial := &keys.Set{Current: pair(t), Next: pair(t)}
	f := newFixture(t, initial, rotate.Options{})
	token := f.startRotation(t)
	f.runSteps(t, token, steps)
	return f, token, initial
}

// untilPause runs fn in its own goroutine and returns once fn has reached
// p, failing t if fn ends first or never gets there. who names fn in the
// failure. The channel gives fn's result once p is released.
func untilPause(t *testing.T, p *smfake.Pause, who string, fn func() error) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case <-p.Reached():
	case err := <-done:
		t.Fatalf("%s ended (%v) without reaching the pause", who, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never reached the pause", who)
	}
	return done
}

// putPending fills the pending version the way something other than
// createSecret might.
func putPending(t *testing.T, f *fixture, token, value string) {
	t.Helper()
	if _, err := f.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secretName), ClientRequestToken: aws.String(token),
		SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"},
	}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) current(t *testing.T) *keys.Set {
	t.Helper()
	return samlflextest.StoredKeySet(t, f.client, secretName)
}

func mustMarshal(t *testing.T, s *keys.Set) []byte {
	t.Helper()
	b, err := keys.MarshalSet(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gen(t *testing.T, notBefore time.Time, validity time.Duration) *keys.Pair {
	t.Helper()
	p, err := keys.Generate(keys.P256, notBefore, validity, "test SP", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pair(t *testing.T) *keys.Pair { return gen(t, testNow.Add(-time.Hour), 365*24*time.Hour) }

func kid(p *keys.Pair) string {
	if p == nil {
		return "<nil>"
	}
	return p.Kid
}

// wantStages is the layout after one successful rotation.
func checkFinalVersions(t *testing.T, f *fixture, token string, hadCurrent bool) {
	t.Helper()
	versions := f.versions(t, f.client)
	want := 1
	if hadCurrent {
		want = 2
	}
	if len(versions) != want {
		t.Fatalf("%d versions, want %d (duplicates?): %+v", len(versions), want, versions)
	}
	for _, v := range versions {
		var wantStages []string
		switch {
		case v.ID == token:
			wantStages = []string{"AWSCURRENT"}
		default:
			wantStages = []string{"AWSPREVIOUS"}
		}
		if !reflect.DeepEqual(v.Stages, wantStages) {
			t.Errorf("version %s stages = %v, want %v", v.ID, v.Stages, wantStages)
		}
	}
}

// checkEMF verifies one EMF document against the specification's shape.
func checkEMF(t *testing.T, doc map[string]any, wantMetric, wantUnit string, wantValue float64, wantDims []string) {
	t.Helper()
	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %v", doc)
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || int64(ts) != testNow.UnixMilli() {
		t.Errorf("_aws.Timestamp = %v, want %d (ms since epoch)", meta["Timestamp"], testNow.UnixMilli())
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) != 1 {
		t.Fatalf("_aws.CloudWatchMetrics = %v, want one directive", meta["CloudWatchMetrics"])
	}
	d := directives[0].(map[string]any)
	if d["Namespace"] != "samlflex" {
		t.Errorf("Namespace = %v", d["Namespace"])
	}
	dims, ok := d["Dimensions"].([]any)
	if !ok || len(dims) != 1 {
		t.Fatalf("Dimensions = %v, want one dimension set", d["Dimensions"])
	}
	set, ok := dims[0].([]any)
	if !ok || len(set) != len(wantDims) {
		t.Fatalf("dimension set = %v, want %v", dims[0], wantDims)
	}
	for i, k := range wantDims {
		if set[i] != k {
			t.Errorf("dimension %d = %v, want %s", i, set[i], k)
		}
		if _, ok := doc[k].(string); !ok {
			t.Errorf("dimension %s has no string value at the root", k)
		}
	}
	metrics, ok := d["Metrics"].([]any)
	if !ok || len(metrics) != 1 {
		t.Fatalf("Metrics = %v", d["Metrics"])
	}
	m := metrics[0].(map[string]any)
	if m["Name"] != wantMetric || m["Unit"] != wantUnit || len(m) != 2 {
		t.Errorf("metric definition = %v, want {Name: %s, Unit: %s}", m, wantMetric, wantUnit)
	}
	if v, ok := doc[wantMetric].(float64); !ok || v != wantValue {
		t.Errorf("root %s = %v, want %v", wantMetric, doc[wantMetric], wantValue)
	}
}
