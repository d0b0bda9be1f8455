package smkeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/keys"
)

// API is the part of the Secrets Manager client that smkeys uses;
// *secretsmanager.Client satisfies it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// Defaults of Options.
const (
	DefaultTTL                = 5 * time.Minute
	DefaultKidRefreshInterval = 30 * time.Second
	DefaultRetryAfterFailure  = 30 * time.Second
	// Parameters of a seeded set; the rotation function uses the same.
	seedAlgorithm  = keys.RSA2048
	seedValidity   = 2 * 365 * 24 * time.Hour
	seedCommonName = "samlflex SP"
)

// Options configure a Source. The zero value is usable.
type Options struct {
	// TTL is how long a fetched set is served before it is fetched again
	// (default 5m). A rotation reaches every Lambda within one TTL.
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives Warn events when a stale set is served (default:
	// discard).
	Logger *slog.Logger
	// SeedIfEmpty generates a set and stores it when the secret has no
	// current value. Enable it in exactly the functions that may create
	// the first key; the rest wait for it.
	SeedIfEmpty bool
	// KidRefreshInterval limits refreshes caused by unknown key IDs
	// (default 30s): a token with a made-up kid must not become a way to
	// make us call Secrets Manager on every request.
	KidRefreshInterval time.Duration
	// RetryAfterFailure is how long a failed refresh is not retried while
	// a cached set is served (default 30s), so that during an outage each
	// request does not wait for the SDK's retries first.
	RetryAfterFailure time.Duration
	// Rand is the randomness for seeding (default crypto/rand).
	Rand io.Reader
	// MaxTokenLifetime and RetireMargin decide when the previous key
	// retires (keys.Retire), default keys.MaxTokenLifetime and
	// keys.DefaultRetireMargin. TTL is added to the margin: an instance
	// that cached the set from before a rotation signs with the old key
	// for up to one TTL after it.
	MaxTokenLifetime time.Duration
	RetireMargin     time.Duration
}

// Source is a keys.Source over one secret. It is safe for concurrent use;
// at most one fetch runs at a time and concurrent callers share its result.
type Source struct {
	api      API
	secretID string
	opts     Options

	mu         sync.Mutex
	set        *keys.Set
	expires    time.Time // set is fresh until then
	retryAt    time.Time // after a failed refresh: no new attempt before
	lastKidRef time.Time // last refresh caused by an unknown kid
	inflight   *fetch
}

// fetch is one refresh in progress; waiters block on done.
type fetch struct {
	done chan struct{}
	set  *keys.Set
	err  error
}

var _ keys.Source = (*Source)(nil)

// New returns a Source reading secretID (name or ARN) through client. It
// does not call the API: the first Keys does.
func New(client API, secretID string, opts Options) (*Source, error) {
	if client == nil {
		return nil, errors.New("smkeys: client is required")
	}
	if strings.TrimSpace(secretID) == "" {
		return nil, errors.New("smkeys: secret ID is required")
	}
	if opts.TTL < 0 || opts.KidRefreshInterval < 0 || opts.RetryAfterFailure < 0 || opts.MaxTokenLifetime < 0 || opts.RetireMargin < 0 {
		return nil, errors.New("smkeys: durations must not be negative")
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.KidRefreshInterval == 0 {
		opts.KidRefreshInterval = DefaultKidRefreshInterval
	}
	if opts.RetryAfterFailure == 0 {
		opts.RetryAfterFailure = DefaultRetryAfterFailure
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxTokenLifetime == 0 {
		opts.MaxTokenLifetime = keys.MaxTokenLifetime
	}
	if opts.RetireMargin == 0 {
		opts.RetireMargin = keys.DefaultRetireMargin
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Source{api: client, secretID: secretID, opts: opts}, nil
}

// Keys returns the key set, with the previous key retired once its time
// has come (keys.Retire): from the cache while it is fresh (no API call),
// else fetched. If the fetch fails and a set was fetched before, that set
// is returned (and a Warn logged); without one the error wraps
// keys.ErrUnavailable (Secrets Manager unreachable), keys.ErrNoKeys (empty
// secret and SeedIfEmpty off) or keys.ErrInvalidSet (corrupt secret).
func (s *Source) Keys(ctx context.Context) (*keys.Set, error) {
	set, err := s.stored(ctx)
	if err != nil {
		return nil, err
	}
	return s.retire(set), nil
}

// retire applies keys.Retire with this source's clock and bounds. It runs
// on every call, not at fetch time, so that a cached set loses its previous
// key at the right moment too.
func (s *Source) retire(set *keys.Set) *keys.Set {
	return keys.Retire(set, s.opts.Now(), s.opts.MaxTokenLifetime, s.opts.RetireMargin+s.opts.TTL)
}

// stored returns the set as stored (cached or fetched), before retirement.
func (s *Source) stored(ctx context.Context) (*keys.Set, error) {
	s.mu.Lock()
	now := s.opts.Now()
	if s.set != nil && (now.Before(s.expires) || now.Before(s.retryAt)) {
		set := s.set
		s.mu.Unlock()
		return set, nil
	}
	s.mu.Unlock()
	return s.refresh(ctx)
}

// KeyForKid returns the pair with key ID kid among the verifying keys
// (current, previous until it retires, next). An unknown kid triggers one refresh, since
// another Lambda may have seen a rotation first, at most once per
// KidRefreshInterval; after that the error wraps keys.ErrUnknownKid.
func (s *Source) KeyForKid(ctx context.Context, kid string) (*keys.Pair, error) {
	set, err := s.Keys(ctx)
	if err != nil {
		return nil, err
	}
	if p := set.ByKid(kid); p != nil {
		return p, nil
	}
	s.mu.Lock()
	now := s.opts.Now()
	allowed := s.lastKidRef.IsZero() || !now.Before(s.lastKidRef.Add(s.opts.KidRefreshInterval))
	if allowed {
		s.lastKidRef = now
	}
	s.mu.Unlock()
	if allowed {
		if set, err = s.refresh(ctx); err != nil {
			return nil, err
		}
		if p := s.retire(set).ByKid(kid); p != nil {
			return p, nil
		}
	}
	return nil, fmt.Errorf("smkeys: %w", keys.ErrUnknownKid)
}

// refresh fetches the set, or waits for the fetch already running.
func (s *Source) refresh(ctx context.Context) (*keys.Set, error) {
	s.mu.Lock()
	if f := s.inflight; f != nil {
		s.mu.Unlock()
		select {
		case <-f.done:
			return f.set, f.err
		case <-ctx.Done():
			return s.fallback(ctx.Err())
		}
	}
	f := &fetch{done: make(chan struct{})}
	s.inflight = f
	s.mu.Unlock()

	set, err := s.load(ctx)

	s.mu.Lock()
	now := s.opts.Now()
	switch {
	case err == nil:
		s.set, s.expires, s.retryAt = set, now.Add(s.opts.TTL), time.Time{}
		f.set = set
	case s.set != nil:
		s.retryAt = now.Add(s.opts.RetryAfterFailure)
		f.set = s.set
		level := slog.LevelWarn
		if errors.Is(err, keys.ErrInvalidSet) {
			// A corrupt secret will not heal by itself: page someone.
			level = slog.LevelError
		}
		s.opts.Logger.Log(ctx, level, "sp_keys_stale",
			"secret_id", s.secretID, "err", err, "current_kid", s.set.Current.Kid,
			"action", "serving the cached SP key set; logins continue")
	default:
		f.err = err
	}
	s.inflight = nil
	s.mu.Unlock()
	close(f.done)
	return f.set, f.err
}

// fallback is used by a waiter whose context ended: the cached set if any.
func (s *Source) fallback(cause error) (*keys.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil {
		return s.set, nil
	}
	return nil, fmt.Errorf("smkeys: %w: %w", keys.ErrUnavailable, cause)
}

// load reads and parses AWSCURRENT, seeding when allowed.
func (s *Source) load(ctx context.Context) (*keys.Set, error) {
	raw, found, err := s.getCurrent(ctx)
	if err != nil {
		return nil, err
	}
	if !found {
		if !s.opts.SeedIfEmpty {
			return nil, fmt.Errorf("smkeys: secret %s: %w (run the rotation function once, or enable seeding)", s.secretID, keys.ErrNoKeys)
		}
		return s.seed(ctx)
	}
	set, err := keys.ParseSet([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("smkeys: secret %s: %w", s.secretID, err)
	}
	return set, nil
}

// getCurrent returns the AWSCURRENT secret string; found is false when the
// secret has no current value or an empty one. "{}" counts as empty so
// that infrastructure code may create the secret with a placeholder value.
func (s *Source) getCurrent(ctx context.Context) (string, bool, error) {
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(s.secretID),
		VersionStage: aws.String("AWSCURRENT"),
	})
	var rnf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &rnf):
		return "", false, nil
	case err != nil:
		return "", false, unavailable(s.secretID, "read", err)
	}
	raw := strings.TrimSpace(aws.ToString(out.SecretString))
	if raw == "" || raw == "{}" {
		return "", false, nil
	}
	return raw, true, nil
}

// seed generates a set and stores it as the first AWSCURRENT version.
//
// Several cold starts may seed at once. All of them use the same
// ClientRequestToken, derived from the secret ID, so Secrets Manager keeps
// exactly one of the generated sets (the others get ResourceExists) and
// every instance then reads that one; without it each instance would sign
// with a key the others do not have.
func (s *Source) seed(ctx context.Context) (*keys.Set, error) {
	now := s.opts.Now()
	cur, err := keys.Generate(seedAlgorithm, now, seedValidity, seedCommonName, s.opts.Rand)
	if err != nil {
		return nil, err
	}
	next, err := keys.Generate(seedAlgorithm, now, seedValidity, seedCommonName, s.opts.Rand)
	if err != nil {
		return nil, err
	}
	cur.CurrentSince = now.UTC()
	set := &keys.Set{Current: cur, Next: next}
	b, err := keys.MarshalSet(set)
	if err != nil {
		return nil, err
	}
	_, err = s.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(s.secretID),
		ClientRequestToken: aws.String(SeedToken(s.secretID)),
		SecretString:       aws.String(string(b)),
	})
	var exists *types.ResourceExistsException
	var rnf *types.ResourceNotFoundException
	switch {
	case err == nil:
		s.opts.Logger.InfoContext(ctx, "sp_keys_seeded", "secret_id", s.secretID,
			"current_kid", cur.Kid, "next_kid", next.Kid)
		return set, nil
	case errors.As(err, &exists):
		// Another instance won the race: use its set.
		raw, found, err := s.getCurrent(ctx)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("smkeys: secret %s: %w (the seed version exists but is not AWSCURRENT; restage it or run the rotation function)", s.secretID, keys.ErrNoKeys)
		}
		set, err := keys.ParseSet([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("smkeys: secret %s: %w", s.secretID, err)
		}
		return set, nil
	case errors.As(err, &rnf):
		return nil, fmt.Errorf("smkeys: secret %s does not exist (it is created by the infrastructure, not by the functions): %w", s.secretID, keys.ErrNoKeys)
	default:
		return nil, unavailable(s.secretID, "seed", err)
	}
}

// SeedToken is the ClientRequestToken of the seeded version of secretID: a
// UUID-shaped hash, so that every instance seeding the same secret uses the
// same token.
func SeedToken(secretID string) string {
	sum := sha256.Sum256([]byte("samlflex smkeys seed v1\x00" + secretID))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// unavailable wraps keys.ErrUnavailable and keeps the SDK error as text
// only (%v), so that no SDK type escapes this package. The text names the
// operation and the service's message, never the secret value.
func unavailable(secretID, what string, err error) error {
	return fmt.Errorf("smkeys: %s secret %s: %w: %v", what, secretID, keys.ErrUnavailable, err)
}
