package awsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/rotate"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

const day = 24 * time.Hour

// newKeySecret starts smfake on clk with the stack's placeholder secret
// ("{}", as infra/data.go creates it) and returns a client and its ID.
func newKeySecret(t *testing.T, clk *samlflextest.ManualClock) (*smfake.Server, *secretsmanager.Client, string) {
	t.Helper()
	sm := smfake.New(t)
	sm.SetNow(clk.Now)
	// The SDK's own retries stay on (3 attempts): once, under the whole
	// suite with -race on 2 cores, a GetSecretValue answered 200 lost its
	// connection while the body was read ("use of closed network
	// connection"), and these tests are about key validity across
	// rotations, not transport faults (smfake's fault injection tests those
	// with retries off, in internal/keys/smkeys and internal/rotate).
	c := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(sm.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), RetryMaxAttempts: 3})
	out, err := c.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("samlflex-keys"), SecretString: aws.String("{}")})
	if err != nil {
		t.Fatal(err)
	}
	return sm, c, aws.ToString(out.ARN)
}

// rotateOnce does what Secrets Manager does for one scheduled rotation:
// it stages a new AWSPENDING version and invokes the four steps in order.
func rotateOnce(ctx context.Context, c *secretsmanager.Client, secretARN string, handle func(context.Context, json.RawMessage) error) error {
	out, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(secretARN),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:rotate")})
	if err != nil {
		return err
	}
	for _, step := range []string{rotate.StepCreate, rotate.StepSet, rotate.StepTest, rotate.StepFinish} {
		ev, _ := json.Marshal(rotate.Event{SecretID: secretARN, ClientRequestToken: aws.ToString(out.VersionId), Step: step})
		if err := handle(ctx, ev); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}
	return nil
}

func TestCertValidity(t *testing.T) {
	t.Parallel()
	for _, days := range []int{0, 1, 30, 90, 182, 183, 243, 244, 365, 500, config.MaxKeyRotationDays} {
		t.Run(fmt.Sprint(days), func(t *testing.T) {
			t.Parallel()
			period := time.Duration(days) * day
			v := CertValidity(period)
			// A key is next, current and previous for a period each.
			if v <= 3*period {
				t.Errorf("period %d days: validity %v does not outlive three periods", days, v)
			}
			if v < rotate.DefaultValidity {
				t.Errorf("period %d days: validity %v is shorter than the default %v", days, v, rotate.DefaultValidity)
			}
		})
	}
}

// TestRotationsAtLongestPeriod runs six full rotations, 1000 days apart
// (the longest period Secrets Manager and the stack allow), through the
// rotate function's handler: each one must pass testSecret, which refuses
// a key set with an expired certificate. The control shows the run catches
// the bug it guards against: with the old fixed two-year certificates, a
// rotation fails within the first three.
func TestRotationsAtLongestPeriod(t *testing.T) {
	t.Parallel()
	const rotations = 6
	period := time.Duration(config.MaxKeyRotationDays) * day
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))

	t.Run("derived validity", func(t *testing.T) {
		t.Parallel()
		clk := samlflextest.NewClock(now)
		_, c, arn := newKeySecret(t, clk)
		cfg := config.Config{KeysSecretID: arn, KeyRotationDays: config.MaxKeyRotationDays}
		handle, err := NewRotate(cfg, RotateDeps{SecretsManager: c, EMF: io.Discard, Now: clk.Now}, logger)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var kids []string
		for i := range rotations {
			if err := rotateOnce(ctx, c, arn, handle); err != nil {
				t.Fatalf("rotation %d (day %d): %v", i+1, i*config.MaxKeyRotationDays, err)
			}
			set := samlflextest.StoredKeySet(t, c, arn)
			if err := set.Check(clk.Now(), nil); err != nil {
				t.Fatalf("rotation %d: current set: %v", i+1, err)
			}
			kids = append(kids, set.Current.Kid)
			clk.Advance(period)
		}
		for i := 1; i < len(kids); i++ {
			if kids[i] == kids[i-1] {
				t.Errorf("rotation %d kept the current key %s", i+1, kids[i])
			}
		}
	})

	t.Run("control: two-year certificates fail", func(t *testing.T) {
		t.Parallel()
		clk := samlflextest.NewClock(now)
		_, c, arn := newKeySecret(t, clk)
		r, err := rotate.New(c, rotate.Options{EMF: io.Discard, Now: clk.Now, Validity: rotate.DefaultValidity, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		handle := func(ctx context.Context, raw json.RawMessage) error {
			var ev rotate.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return err
			}
			return r.Handle(ctx, ev)
		}
		ctx := context.Background()
		for i := range rotations {
			if err := rotateOnce(ctx, c, arn, handle); err != nil {
				if i == 0 || !strings.Contains(err.Error(), "expired") {
					t.Fatalf("rotation %d failed for another reason: %v", i+1, err)
				}
				return
			}
			clk.Advance(period)
		}
		t.Fatalf("all %d rotations passed with two-year certificates: the run does not test expiry", rotations)
	})
}

// emfLine is one EMF document as CloudWatch reads it.
type emfLine struct {
	samlflextest.EMF
	Age *float64 `json:"SPKeySetAgeDays"`
}

// TestKeySetAge: the age of the AWSCURRENT version, in days, as a
// dimensionless EMF metric; a rotation resets it; a missing secret is an
// error (the scan fails, RotateErrors alarms) rather than no metric.
func TestKeySetAge(t *testing.T) {
	t.Parallel()
	clk := samlflextest.NewClock(now)
	_, c, arn := newKeySecret(t, clk)
	ctx := context.Background()
	report := func() float64 {
		t.Helper()
		var buf, logs bytes.Buffer
		if err := ReportKeySetAge(ctx, c, arn, clk.Now(), slog.New(slog.NewJSONHandler(&logs, nil)), &buf); err != nil {
			t.Fatal(err)
		}
		var line emfLine
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.Age == nil {
			t.Fatalf("EMF %q: %v", buf.String(), err)
		}
		cwm := line.AWS.CloudWatchMetrics
		if line.AWS.Timestamp != clk.Now().UnixMilli() || len(cwm) != 1 || cwm[0].Namespace != "samlflex" ||
			len(cwm[0].Dimensions) != 1 || len(cwm[0].Dimensions[0]) != 0 ||
			len(cwm[0].Metrics) != 1 || cwm[0].Metrics[0].Name != MetricKeySetAgeDays {
			t.Fatalf("EMF %s: want one dimensionless %s in samlflex", buf.String(), MetricKeySetAgeDays)
		}
		if !strings.Contains(logs.String(), `"msg":"sp_key_set_age"`) {
			t.Errorf("no sp_key_set_age log line: %s", logs.String())
		}
		return *line.Age
	}

	// The deploy's placeholder counts from its creation: a first rotation
	// that never ran shows as age.
	clk.Advance(36 * time.Hour)
	if got := report(); got != 1.5 {
		t.Errorf("placeholder after 36h: age %v, want 1.5", got)
	}
	handle, err := NewRotate(config.Config{KeysSecretID: arn, KeyRotationDays: 90}, RotateDeps{SecretsManager: c, EMF: io.Discard, Now: clk.Now}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := rotateOnce(ctx, c, arn, handle); err != nil {
		t.Fatal(err)
	}
	if got := report(); got != 0 {
		t.Errorf("right after a rotation: age %v, want 0", got)
	}
	clk.Advance(95 * day)
	if got := report(); got != 95 {
		t.Errorf("95 days without a rotation: age %v, want 95", got)
	}

	var buf bytes.Buffer
	err = ReportKeySetAge(ctx, c, "no-such-secret", clk.Now(), slog.New(slog.DiscardHandler), &buf)
	if err == nil || buf.Len() != 0 {
		t.Fatalf("missing secret: err %v, EMF %q; want an error and no metric", err, buf.String())
	}
}
