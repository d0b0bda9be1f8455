package acs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Provisioner turns a verified identity into a Flex user and a Flex token
// (the Flex connector). Nil means samlflex issues its own token.
type Provisioner interface {
	Provision(ctx context.Context, acct *samlflex.Account, id samlflex.FlexIdentity) (token string, err error)
}

// KeyRefresher is a keys.Source that can also look a key up by kid,
// refreshing its cached set once (rate-limited) when the kid is unknown;
// smkeys.Source is one. Right after a rotation the instance that receives
// the ACS post may still cache the set from before it, and a login cookie
// sealed by another instance with the new key must still open.
type KeyRefresher interface {
	KeyForKid(ctx context.Context, kid string) (*keys.Pair, error)
}

// Store is what the login reads and writes: account settings and the
// one-time record of used assertion IDs.
type Store interface {
	store.Accounts
	store.Assertions
}

// Config configures New.
type Config struct {
	// BaseURL is the public base URL: the SP identifiers and the token
	// issuer derive from it.
	BaseURL string
	Store   Store
	// Keys is the SP key set; when it is also a KeyRefresher, an unknown
	// kid in a login cookie refreshes it.
	Keys        keys.Source
	Provisioner Provisioner
	Logger      *slog.Logger
	Now         func() time.Time
	// AccountCacheTTL keeps account settings and their parsed
	// certificates in memory (Lambda: 60 s; 0: read every time).
	AccountCacheTTL time.Duration
	// LoginTTL bounds how long a login may take between the login link and
	// the ACS (the login cookie's lifetime). Default 10 minutes.
	LoginTTL time.Duration
	// Admit, when set, bounds the validations in flight: Handle calls it
	// once the account and the login cookie are read, before verifying,
	// and calls the release func it returns when done. Its error (the HTTP
	// layer's server_busy) is returned as is. The cheap reads stay outside
	// the bound, so a slow store or key source never holds a slot.
	Admit func(ctx context.Context) (release func(), err error)
	// SessionTokenAlg signs samlflex's session tokens (zero value:
	// session.ES256; see session.Alg).
	SessionTokenAlg session.Alg
}

// DefaultLoginTTL is Config.LoginTTL when unset.
const DefaultLoginTTL = 10 * time.Minute

// Service runs the login use case: StartLogin (the login link and the
// bounce) and Handle (the ACS).
type Service struct {
	baseURL     string
	assertions  store.Assertions
	keys        keys.Source
	provisioner Provisioner
	logger      *slog.Logger
	now         func() time.Time
	loginTTL    time.Duration
	admit       func(ctx context.Context) (func(), error)
	tokenAlg    session.Alg
	accounts    *accountCache
	loginKeys   session.LoginKeys
}

// New checks cfg and builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Logger == nil {
		return nil, errors.New("acs: Store, Keys and Logger are required")
	}
	u, err := samlflex.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	base := u.String()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LoginTTL <= 0 {
		cfg.LoginTTL = DefaultLoginTTL
	}
	return &Service{baseURL: base, assertions: cfg.Store, keys: cfg.Keys, provisioner: cfg.Provisioner,
		logger: cfg.Logger, now: cfg.Now, loginTTL: cfg.LoginTTL, admit: cfg.Admit, tokenAlg: cfg.SessionTokenAlg,
		accounts: newAccountCache(cfg.Store, base, cfg.AccountCacheTTL, cfg.Now)}, nil
}

// Account returns the settings of account sid and its SP URLs (through
// the cache), or a *samlflex.Error: unknown_account, store_unavailable or
// invalid_config. The HTTP layer needs it before a use case runs (the
// account's body cap) and for the SP metadata.
func (s *Service) Account(ctx context.Context, sid string) (*samlflex.Account, samlflex.URLs, error) {
	p, err := s.Prepare(ctx, sid)
	if err != nil {
		return nil, samlflex.URLs{}, err
	}
	return p.acct, p.v.URLs(), nil
}

// keySet loads the SP key set as a *samlflex.Error on failure.
func (s *Service) keySet(ctx context.Context) (*keys.Set, error) {
	set, err := s.keys.Keys(ctx)
	if err != nil {
		return nil, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err)
	}
	return set, nil
}
