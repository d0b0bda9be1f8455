package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TokenCode is a stable reason for a refused token, shown on the landing
// page and in the whoami answer.
type TokenCode string

// The token codes.
const (
	TokenMalformed        TokenCode = "token_malformed"
	TokenUnknownKey       TokenCode = "token_unknown_key"
	TokenSignatureInvalid TokenCode = "token_signature_invalid"
	TokenExpired          TokenCode = "token_expired"
	TokenNotYetValid      TokenCode = "token_not_yet_valid"
	TokenIssuerMismatch   TokenCode = "token_issuer_mismatch"
	TokenAudienceMismatch TokenCode = "token_audience_mismatch"
	JWKSUnavailable       TokenCode = "jwks_unavailable"
)

// TokenError is a token that did not verify. Message is safe to show (it
// never echoes the token); Err is the detail for the log.
type TokenError struct {
	Code    TokenCode
	Message string
	Err     error
}

func (e *TokenError) Error() string {
	if e.Err == nil {
		return string(e.Code) + ": " + e.Message
	}
	return string(e.Code) + ": " + e.Err.Error()
}

func (e *TokenError) Unwrap() error { return e.Err }

func tokenErr(code TokenCode, msg string, err error) *TokenError {
	return &TokenError{Code: code, Message: msg, Err: err}
}

// Defaults of TokenVerifierConfig.
const (
	defaultJWKSCacheTTL = 5 * time.Minute
	defaultLeeway       = 30 * time.Second
	maxJWKSBytes        = 1 << 20
	maxTokenBytes       = 16 << 10
)

// TokenVerifierConfig configures NewTokenVerifier.
type TokenVerifierConfig struct {
	// JWKSURL is where the public keys are published (the server's
	// /.well-known/jwks.json).
	JWKSURL string
	// Issuer is the expected "iss": samlflex's base URL.
	Issuer string
	// Audience is the expected "aud": the Account SID.
	Audience string
	// HTTPClient fetches the JWKS (nil: a client with a 5-second timeout).
	HTTPClient *http.Client
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Leeway absorbs clock differences on exp/nbf/iat (0: 30 seconds).
	Leeway time.Duration
	// CacheTTL is how long a fetched JWKS is reused (0: 5 minutes). An
	// unknown kid refetches at once, so a key rotation is picked up.
	CacheTTL time.Duration
}

// TokenVerifier checks session tokens as a relying party would: the JWKS
// comes over HTTP, the kid picks the key, and iss, aud and exp must match.
// It is safe for concurrent use.
type TokenVerifier struct {
	cfg TokenVerifierConfig

	mu        sync.Mutex
	jwks      *jose.JSONWebKeySet
	fetchedAt time.Time
}

// Claims are what a verified token says, plus which key signed it.
type Claims struct {
	Subject   string    `json:"sub"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Roles     []string  `json:"roles"`
	Issuer    string    `json:"iss"`
	Audience  []string  `json:"aud"`
	Expiry    time.Time `json:"-"`
	IssuedAt  time.Time `json:"-"`
	KeyID     string    `json:"kid"`
	Algorithm string    `json:"alg"`
}

// NewTokenVerifier checks the configuration. Issuer and Audience are
// required: a verifier that skips either would accept tokens minted for
// another deployment or another account.
func NewTokenVerifier(cfg TokenVerifierConfig) (*TokenVerifier, error) {
	switch {
	case cfg.JWKSURL == "":
		return nil, errors.New("demo: token verifier needs a JWKS URL")
	case cfg.Issuer == "":
		return nil, errors.New("demo: token verifier needs the expected issuer")
	case cfg.Audience == "":
		return nil, errors.New("demo: token verifier needs the expected audience")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = defaultLeeway
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = defaultJWKSCacheTTL
	}
	return &TokenVerifier{cfg: cfg}, nil
}

// wireClaims is the token payload. Audience accepts a string or an array
// (RFC 7519 4.1.3); roles accept an array or one comma-separated string.
type wireClaims struct {
	jwt.Claims
	Name  string          `json:"name"`
	Email string          `json:"email"`
	Roles json.RawMessage `json:"roles"`
}

// Verify checks the token and returns its claims, or a *TokenError.
func (v *TokenVerifier) Verify(ctx context.Context, token string) (*Claims, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenBytes {
		return nil, tokenErr(TokenMalformed, "There is no usable token: sign in again from the login link.", fmt.Errorf("token of %d bytes", len(token)))
	}
	// Only the algorithms samlflex signs with; "none" and HMAC (which a
	// confused verifier would check with the public key as secret) never
	// reach Verify.
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, tokenErr(TokenMalformed, "The token is not a signed JWT (RS256 or ES256).", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, tokenErr(TokenMalformed, "The token must carry exactly one signature.", fmt.Errorf("%d signatures", len(jws.Signatures)))
	}
	hdr := jws.Signatures[0].Header
	key, err := v.key(ctx, hdr.KeyID, hdr.Algorithm)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, tokenErr(TokenSignatureInvalid, "The token's signature does not verify with the published key: it was changed or signed by someone else.", err)
	}
	var wc wireClaims
	if err := json.Unmarshal(payload, &wc); err != nil {
		return nil, tokenErr(TokenMalformed, "The token's claims are not valid JSON.", err)
	}
	if wc.Expiry == nil {
		// jwt.Claims.Validate skips a missing exp; a session token
		// without one would never expire.
		return nil, tokenErr(TokenMalformed, "The token has no expiry (exp).", nil)
	}
	err = wc.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.cfg.Issuer,
		AnyAudience: jwt.Audience{v.cfg.Audience},
		Time:        v.cfg.Now(),
	}, v.cfg.Leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, tokenErr(TokenExpired, "The token has expired: sign in again.", fmt.Errorf("exp %s", wc.Expiry.Time().UTC().Format(time.RFC3339)))
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, tokenErr(TokenNotYetValid, "The token is not valid yet: check this computer's clock.", err)
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, tokenErr(TokenIssuerMismatch, "The token was issued by another samlflex server.", fmt.Errorf("iss %q, want %q", wc.Issuer, v.cfg.Issuer))
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, tokenErr(TokenAudienceMismatch, "The token was issued for another account.", fmt.Errorf("aud %q, want %q", []string(wc.Audience), v.cfg.Audience))
	case err != nil:
		return nil, tokenErr(TokenMalformed, "The token's claims are not valid.", err)
	}
	if wc.Subject == "" {
		return nil, tokenErr(TokenMalformed, "The token names nobody (no sub).", nil)
	}
	roles, err := parseRolesClaim(wc.Roles)
	if err != nil {
		return nil, tokenErr(TokenMalformed, "The token's roles claim is neither a list nor a string.", err)
	}
	c := &Claims{
		Subject: wc.Subject, Name: wc.Name, Email: wc.Email, Roles: roles,
		Issuer: wc.Issuer, Audience: []string(wc.Audience),
		Expiry: wc.Expiry.Time().UTC(), KeyID: hdr.KeyID, Algorithm: hdr.Algorithm,
	}
	if wc.IssuedAt != nil {
		c.IssuedAt = wc.IssuedAt.Time().UTC()
	}
	return c, nil
}

func parseRolesClaim(raw json.RawMessage) ([]string, error) {
	roles := []string{}
	if len(raw) == 0 || string(raw) == "null" {
		return roles, nil
	}
	if err := json.Unmarshal(raw, &roles); err == nil {
		return roles, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// key returns the JWKS key with this kid, refetching the JWKS once if the
// cached copy is old or does not know the kid (the server rotated).
func (v *TokenVerifier) key(ctx context.Context, kid, alg string) (jose.JSONWebKey, error) {
	if kid == "" {
		return jose.JSONWebKey{}, tokenErr(TokenMalformed, "The token does not name its key (no kid).", nil)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fresh := false
	if v.jwks == nil || v.cfg.Now().Sub(v.fetchedAt) > v.cfg.CacheTTL {
		if err := v.fetchLocked(ctx); err != nil {
			return jose.JSONWebKey{}, err
		}
		fresh = true
	}
	matches := v.jwks.Key(kid)
	if len(matches) == 0 && !fresh {
		if err := v.fetchLocked(ctx); err != nil {
			return jose.JSONWebKey{}, err
		}
		matches = v.jwks.Key(kid)
	}
	for _, k := range matches {
		// A published alg pins the key to it, so a token cannot pick an
		// algorithm the key was not meant for.
		if (k.Use == "" || k.Use == "sig") && (k.Algorithm == "" || k.Algorithm == alg) && k.IsPublic() {
			return k, nil
		}
	}
	return jose.JSONWebKey{}, tokenErr(TokenUnknownKey, "The token was signed with a key that samlflex does not publish (JWKS).", fmt.Errorf("kid %q alg %q not in JWKS", kid, alg))
}

func (v *TokenVerifier) fetchLocked(ctx context.Context) error {
	const msg = "The token cannot be checked: the published keys (JWKS) could not be fetched."
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return tokenErr(JWKSUnavailable, msg, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return tokenErr(JWKSUnavailable, msg, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return tokenErr(JWKSUnavailable, msg, fmt.Errorf("GET %s: status %d", v.cfg.JWKSURL, resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return tokenErr(JWKSUnavailable, msg, err)
	}
	if len(body) > maxJWKSBytes {
		return tokenErr(JWKSUnavailable, msg, errors.New("JWKS larger than 1 MiB"))
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return tokenErr(JWKSUnavailable, msg, fmt.Errorf("JWKS: %w", err))
	}
	v.jwks, v.fetchedAt = &set, v.cfg.Now()
	return nil
}
