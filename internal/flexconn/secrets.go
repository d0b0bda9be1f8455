package flexconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// ErrNoSecret: no API key secret is stored for the account.
var ErrNoSecret = errors.New("flexconn: no Twilio API key secret stored for the account")

// Secrets stores the Twilio secret of each account's Flex connection: an
// API key secret, or the Auth Token when the connection names the Account
// SID instead of an API key (see CredsFor).
type Secrets interface {
	APISecret(ctx context.Context, accountSID string) (string, error)
	PutAPISecret(ctx context.Context, accountSID, secret string) error
}

// FileSecrets keeps secrets in one JSON file (mode 0600) in the data
// directory of `samlflex serve`/`dev`.
type FileSecrets struct {
	path string
	mu   sync.Mutex
}

// NewFileSecrets uses dir/flex-secrets.json.
func NewFileSecrets(dir string) *FileSecrets {
	return &FileSecrets{path: filepath.Join(dir, "flex-secrets.json")}
}

func (f *FileSecrets) read() (map[string]string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("flexconn: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("flexconn: %s is damaged: %v", f.path, err)
	}
	return m, nil
}

// APISecret implements Secrets.
func (f *FileSecrets) APISecret(_ context.Context, sid string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return "", err
	}
	s, ok := m[sid]
	if !ok || s == "" {
		return "", ErrNoSecret
	}
	return s, nil
}

// PutAPISecret implements Secrets with an atomic write (temp file, fsync,
// rename), so a crash never leaves half a file.
func (f *FileSecrets) PutAPISecret(_ context.Context, sid, secret string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	m[sid] = secret
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("flexconn: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".flex-secrets-*")
	if err != nil {
		return fmt.Errorf("flexconn: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("flexconn: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("flexconn: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("flexconn: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("flexconn: %w", err)
	}
	return os.Rename(tmp.Name(), f.path)
}

// SMAPI is the part of the Secrets Manager client SMSecrets uses.
type SMAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
}

// DefaultSecretPrefix names the per-account secrets (prefix + Account SID);
// the stack grants the acs function GetSecretValue on prefix*.
const DefaultSecretPrefix = "samlflex/flex/"

// SMSecrets keeps one Secrets Manager secret per account, cached in memory
// for TTL so that a warm login makes no Secrets Manager call.
type SMSecrets struct {
	api    SMAPI
	prefix string
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	value   string
	fetched time.Time
}

// NewSMSecrets builds the Secrets Manager store (prefix "" means the
// default, ttl 0 means 5 minutes).
func NewSMSecrets(api SMAPI, prefix string, ttl time.Duration, now func() time.Time) *SMSecrets {
	if prefix == "" {
		prefix = DefaultSecretPrefix
	}
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	if now == nil {
		now = time.Now
	}
	return &SMSecrets{api: api, prefix: prefix, ttl: ttl, now: now, cache: map[string]cached{}}
}

// SecretName is the Secrets Manager name of an account's API key secret.
func (s *SMSecrets) SecretName(sid string) string { return s.prefix + sid }

// APISecret implements Secrets.
func (s *SMSecrets) APISecret(ctx context.Context, sid string) (string, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[sid]
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < s.ttl {
		return c.value, nil
	}
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.SecretName(sid))})
	var nf *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return "", ErrNoSecret
	case err != nil:
		if ok {
			// Secrets Manager down with a cached value: logins go on.
			return c.value, nil
		}
		return "", fmt.Errorf("flexconn: reading %s: %s", s.SecretName(sid), err.Error())
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	if v == "" {
		return "", ErrNoSecret
	}
	s.mu.Lock()
	s.cache[sid] = cached{value: v, fetched: now}
	s.mu.Unlock()
	return v, nil
}

// PutAPISecret creates the secret or adds a new version to it.
func (s *SMSecrets) PutAPISecret(ctx context.Context, sid, secret string) error {
	_, err := s.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.SecretName(sid)), SecretString: aws.String(secret)})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		_, err = s.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s.SecretName(sid)), SecretString: aws.String(secret),
			Description: aws.String("Twilio API key secret of samlflex account " + sid)})
	}
	if err != nil {
		return fmt.Errorf("flexconn: storing %s: %s", s.SecretName(sid), err.Error())
	}
	s.mu.Lock()
	delete(s.cache, sid)
	s.mu.Unlock()
	return nil
}
