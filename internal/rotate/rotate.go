package rotate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/keys"
)

// SecretsAPI is the part of the Secrets Manager client the rotation needs.
type SecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// Event is the rotation function's input, as Secrets Manager sends it.
type Event struct {
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
}

// The steps, named as in the event.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// Staging labels.
const (
	stageCurrent = "AWSCURRENT"
	stagePending = "AWSPENDING"
)

// Sentinel errors; Handle wraps them in a *StepError.
var (
	// ErrBadEvent: a field of the event is missing or the step is unknown.
	ErrBadEvent = errors.New("rotate: bad event")
	// ErrRotationDisabled: the secret does not have rotation enabled, so
	// this invocation did not come from a Secrets Manager rotation.
	ErrRotationDisabled = errors.New("rotate: rotation is not enabled for the secret")
	// ErrNotPending: the token is not a version of the secret staged
	// AWSPENDING (or AWSCURRENT).
	ErrNotPending = errors.New("rotate: version is not staged for rotation")
	// ErrTestFailed: the pending key set is unusable; it is never made
	// current.
	ErrTestFailed = errors.New("rotate: pending key set failed its test")
)

// StepError is what Handle returns: which step failed for which secret.
type StepError struct {
	Step     string
	SecretID string
	Err      error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("rotate: %s of %s: %v", e.Step, e.SecretID, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Defaults of Options.
const (
	// DefaultValidity must cover three rotation periods: a key is next for
	// one, current for one, previous for one.
	DefaultValidity   = 2 * 365 * 24 * time.Hour
	DefaultCommonName = "samlflex SP"
)

// Options configure a Rotator.
type Options struct {
	// Logger receives the step log and the "sp_key_rotated" event.
	Logger *slog.Logger
	// EMF receives CloudWatch Embedded Metric Format lines (os.Stdout in
	// Lambda, where each line becomes a log event). Required.
	EMF io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the randomness for new keys (default crypto/rand).
	Rand io.Reader
	// Algorithm of new keys (default keys.RSA2048).
	Algorithm keys.Algorithm
	// Validity of new certificates (default DefaultValidity).
	Validity time.Duration
	// CommonName of new certificates (default DefaultCommonName).
	CommonName string
}

// Rotator runs rotation steps. It holds no state between invocations:
// everything it needs is in Secrets Manager, which is what makes a step
// safe to re-run on another Lambda instance.
type Rotator struct {
	api  SecretsAPI
	opts Options
}

// New checks opts and fills defaults.
func New(api SecretsAPI, opts Options) (*Rotator, error) {
	if api == nil {
		return nil, errors.New("rotate: SecretsAPI is required")
	}
	if opts.EMF == nil {
		return nil, errors.New("rotate: EMF writer is required (rotation metrics feed the alarms)")
	}
	if opts.Validity < 0 {
		return nil, errors.New("rotate: validity must not be negative")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Algorithm == "" {
		opts.Algorithm = keys.RSA2048
	}
	if opts.Validity == 0 {
		opts.Validity = DefaultValidity
	}
	if opts.CommonName == "" {
		opts.CommonName = DefaultCommonName
	}
	return &Rotator{api: api, opts: opts}, nil
}

// Handle runs one step. A failure is logged ("sp_key_rotation_failed"),
// counted (SPKeyRotationFailures) and returned, so that Secrets Manager
// marks the rotation failed and retries it later.
func (r *Rotator) Handle(ctx context.Context, ev Event) (err error) {
	log := r.opts.Logger.With("secret_id", ev.SecretID, "step", ev.Step, "version_id", ev.ClientRequestToken)
	defer func() {
		if err == nil {
			return
		}
		err = &StepError{Step: ev.Step, SecretID: ev.SecretID, Err: err}
		log.ErrorContext(ctx, "sp_key_rotation_failed", "err", err)
		if werr := r.emitFailure(ev); werr != nil {
			log.ErrorContext(ctx, "emf_write_failed", "err", werr)
		}
	}()
	if err := ev.validate(); err != nil {
		return err
	}
	desc, err := r.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return fmt.Errorf("describe secret: %w", err)
	}
	if !aws.ToBool(desc.RotationEnabled) {
		return ErrRotationDisabled
	}
	stages, ok := desc.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("%w: the secret has no version %s with a staging label", ErrNotPending, ev.ClientRequestToken)
	}
	if slices.Contains(stages, stageCurrent) {
		if ev.Step == StepFinish && slices.Contains(stages, stagePending) {
			// finishSecret moved AWSCURRENT but has not cleared
			// AWSPENDING: it failed, died, or is still running. Complete
			// it; the clearing elects one announcer (see complete).
			return r.complete(ctx, log, ev, nil)
		}
		log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", "version is already AWSCURRENT")
		return nil
	}
	if !slices.Contains(stages, stagePending) {
		return fmt.Errorf("%w: version %s is staged %s, not AWSPENDING", ErrNotPending, ev.ClientRequestToken, strings.Join(stages, ","))
	}
	switch ev.Step {
	case StepCreate:
		return r.createSecret(ctx, log, ev)
	case StepSet:
		return r.setSecret(ctx, log, ev)
	case StepTest:
		return r.testSecret(ctx, log, ev)
	default: // StepFinish; validate rejected anything else
		return r.finishSecret(ctx, log, ev, desc.VersionIdsToStages)
	}
}

func (ev Event) validate() error {
	var missing []string
	if ev.SecretID == "" {
		missing = append(missing, "SecretId")
	}
	if ev.ClientRequestToken == "" {
		missing = append(missing, "ClientRequestToken")
	}
	if ev.Step == "" {
		missing = append(missing, "Step")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrBadEvent, strings.Join(missing, ", "))
	}
	switch ev.Step {
	case StepCreate, StepSet, StepTest, StepFinish:
		return nil
	}
	return fmt.Errorf("%w: unknown step %q (want %s, %s, %s or %s)", ErrBadEvent, ev.Step, StepCreate, StepSet, StepTest, StepFinish)
}
