package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
	"github.com/samlflex/samlflex/internal/keys/smkeys/smclient"
)

// keyStorageFlags selects the SP key set: the local key file that `serve`
// uses, or the Secrets Manager secret of an AWS deployment.
type keyStorageFlags struct {
	data     string
	secretID string
	endpoint string
}

func (k *keyStorageFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&k.data, "data", dataDirDefault(getenv), "`DIR` whose sp-keys.json `samlflex serve` uses (default $SAMLFLEX_DATA,\nelse ./.samlflex)")
	fs.StringVar(&k.secretID, "secret-id", getenv(config.EnvKeysSecretID), "Secrets Manager `SECRET` (name or ARN) of an AWS deployment instead\n(the stack's SP key secret; default $SAMLFLEX_KEYS_SECRET_ID); uses the\ndefault AWS credential chain")
	fs.StringVar(&k.endpoint, "secrets-manager-endpoint", "", "Secrets Manager endpoint `URL` of a local stand-in (tests); only with\n--secret-id")
}

// resolve settles the backend; an explicit --data beats the environment's
// secret, as for the account commands.
func (k *keyStorageFlags) resolve(given map[string]bool) error {
	return resolveBackend(given, k.data, &k.secretID, k.endpoint, backendNames{
		local: "local key file", remoteFlag: "secret-id", remote: "Secrets Manager",
		endpointFlag: "secrets-manager-endpoint", remoteEnv: config.EnvKeysSecretID,
	})
}

// keyStore is what the keys commands do on either backend.
type keyStore interface {
	describe() string
	stored(ctx context.Context) (*keys.Set, error)
	rotate(ctx context.Context) (*keys.Set, string, error)
	rotateNow(ctx context.Context, retirePrevious bool) (*keys.Set, string, error)
	revoke(ctx context.Context, kid string) (*keys.Set, string, error)
	// retireAfter is the delay after a rotation at which readers of this
	// backend retire the previous key (keys.Retire's lifetime + margin).
	retireAfter() time.Duration
	// pickUp says when running servers use a change.
	pickUp() string
}

func (k *keyStorageFlags) open(ctx context.Context, now func() time.Time) (keyStore, error) {
	if k.secretID != "" {
		client, err := smclient.New(ctx, k.endpoint)
		if err != nil {
			return nil, err
		}
		admin, err := smkeys.NewAdmin(client, k.secretID, now, nil)
		if err != nil {
			return nil, err
		}
		return &smKeyStore{admin: admin, id: k.secretID}, nil
	}
	src, err := filekeys.OpenExisting(k.data, now, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (run `samlflex serve --data %s` once to create the keys, or point --data at the directory serve uses)", err, k.data)
	}
	return &fileKeyStore{src: src, dir: k.data}, nil
}

type fileKeyStore struct {
	src *filekeys.Source
	dir string
}

func (f *fileKeyStore) describe() string { return "the key file in " + f.dir }
func (f *fileKeyStore) stored(ctx context.Context) (*keys.Set, error) {
	return f.src.Stored(ctx)
}
func (f *fileKeyStore) rotate(ctx context.Context) (*keys.Set, string, error) {
	s, err := f.src.Rotate(ctx)
	return s, "", err
}
func (f *fileKeyStore) rotateNow(ctx context.Context, retire bool) (*keys.Set, string, error) {
	s, err := f.src.RotateNow(ctx, retire)
	return s, "", err
}
func (f *fileKeyStore) revoke(ctx context.Context, kid string) (*keys.Set, string, error) {
	s, err := f.src.Revoke(ctx, kid)
	return s, "", err
}
func (f *fileKeyStore) retireAfter() time.Duration {
	return keys.MaxTokenLifetime + keys.DefaultRetireMargin
}
func (f *fileKeyStore) pickUp() string {
	return "A running `samlflex serve` on this directory uses the new set from its next request."
}

type smKeyStore struct {
	admin *smkeys.Admin
	id    string
}

func (s *smKeyStore) describe() string { return "Secrets Manager secret " + s.id }
func (s *smKeyStore) stored(ctx context.Context) (*keys.Set, error) {
	set, _, err := s.admin.Stored(ctx)
	return set, err
}
func (s *smKeyStore) rotate(ctx context.Context) (*keys.Set, string, error) {
	id, err := s.admin.StartRotation(ctx)
	if err != nil {
		return nil, "", err
	}
	return nil, "Secrets Manager started rotation " + id + ": the rotate function makes the next key current\nwithin a minute (its log event sp_key_rotated, metric SPKeyRotations). Check with\n`samlflex keys show`.", nil
}
func (s *smKeyStore) rotateNow(ctx context.Context, retire bool) (*keys.Set, string, error) {
	ch, err := s.admin.RotateNow(ctx, retire)
	return changeResult(ch, err)
}
func (s *smKeyStore) revoke(ctx context.Context, kid string) (*keys.Set, string, error) {
	ch, err := s.admin.Revoke(ctx, kid)
	return changeResult(ch, err)
}
func (s *smKeyStore) retireAfter() time.Duration {
	// The functions add their key cache TTL to the margin (smkeys).
	return keys.MaxTokenLifetime + keys.DefaultRetireMargin + smkeys.DefaultTTL
}
func (s *smKeyStore) pickUp() string {
	return "The Lambda functions use the new set within their key cache TTL\n($SAMLFLEX_KEYS_CACHE_TTL, default 5m); relying parties re-read the JWKS within 5m."
}

func changeResult(ch *smkeys.Change, err error) (*keys.Set, string, error) {
	if ch == nil {
		return nil, "", err
	}
	note := "New AWSCURRENT version: " + ch.VersionID + " (the replaced one is AWSPREVIOUS)."
	if ch.CancelledRotation != "" {
		note += "\nAn unfinished rotation (version " + ch.CancelledRotation + ") was computed from the replaced\nset: its AWSPENDING label was removed, so it can never make old keys current."
	}
	return ch.Set, note, err
}
