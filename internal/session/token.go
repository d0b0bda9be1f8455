package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlflex/samlflex/internal/keys"
)

// Claims are the session token's claims.
type Claims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience string   `json:"aud"`
	Name     string   `json:"name,omitempty"`
	Email    string   `json:"email,omitempty"`
	Roles    []string `json:"roles"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	ID       string   `json:"jti"`
	AuthTime int64    `json:"auth_time,omitempty"`
}

// Input is what a token says.
type Input struct {
	Issuer     string // base URL
	Subject    string
	AccountSID string
	Name       string
	Email      string
	Roles      []string
	AuthTime   time.Time
	Now        time.Time
	TTL        time.Duration
}

// Issue signs a token with the key set's current key (RS256 or ES256 by key
// type, kid set). rnd is the source of the jti (nil: crypto/rand).
func Issue(set *keys.Set, in Input, rnd io.Reader) (string, Claims, error) {
	if set == nil || set.Current == nil {
		return "", Claims{}, fmt.Errorf("session: no current key")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var jti [16]byte
	if _, err := io.ReadFull(rnd, jti[:]); err != nil {
		return "", Claims{}, fmt.Errorf("session: jti: %w", err)
	}
	c := Claims{
		Issuer: in.Issuer, Subject: in.Subject, Audience: in.AccountSID,
		Name: in.Name, Email: in.Email, Roles: in.Roles,
		IssuedAt: in.Now.Unix(), Expiry: in.Now.Add(in.TTL).Unix(),
		ID: hex.EncodeToString(jti[:]),
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if !in.AuthTime.IsZero() {
		c.AuthTime = in.AuthTime.Unix()
	}
	alg, err := algorithmFor(set.Current.Signer)
	if err != nil {
		return "", Claims{}, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: set.Current.Signer, KeyID: set.Current.Kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", Claims{}, fmt.Errorf("session: signer: %w", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", Claims{}, fmt.Errorf("session: sign: %w", err)
	}
	tok, err := obj.CompactSerialize()
	return tok, c, err
}

func algorithmFor(s crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch s.Public().(type) {
	case *rsa.PublicKey:
		return jose.RS256, nil
	case *ecdsa.PublicKey:
		return jose.ES256, nil
	}
	return "", fmt.Errorf("session: unsupported key type %T", s.Public())
}

// JWKS returns the public keys that verify session tokens: current,
// previous (tokens issued before the last rotation are still valid until
// they expire) and next (so that verifiers can cache it before it signs).
func JWKS(set *keys.Set) ([]byte, error) {
	var ks jose.JSONWebKeySet
	for _, p := range set.Verifying() {
		alg, err := algorithmFor(p.Signer)
		if err != nil {
			return nil, err
		}
		ks.Keys = append(ks.Keys, jose.JSONWebKey{Key: p.Signer.Public(), KeyID: p.Kid, Algorithm: string(alg), Use: "sig"})
	}
	return json.Marshal(ks)
}

// Verify checks a token against a JWKS document (as a relying party that
// fetched it would) and returns its claims. Used by tests and the demo
// landing page.
func Verify(token string, jwks []byte, issuer, audience string, now time.Time) (Claims, error) {
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &ks); err != nil {
		return Claims{}, fmt.Errorf("session: jwks: %w", err)
	}
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return Claims{}, fmt.Errorf("session: parse: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return Claims{}, fmt.Errorf("session: %d signatures", len(obj.Signatures))
	}
	matches := ks.Key(obj.Signatures[0].Header.KeyID)
	if len(matches) == 0 {
		return Claims{}, fmt.Errorf("session: unknown kid %q", obj.Signatures[0].Header.KeyID)
	}
	payload, err := obj.Verify(matches[0].Key)
	if err != nil {
		return Claims{}, fmt.Errorf("session: signature: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, fmt.Errorf("session: claims: %w", err)
	}
	switch {
	case c.Issuer != issuer:
		return Claims{}, fmt.Errorf("session: iss %q", c.Issuer)
	case c.Audience != audience:
		return Claims{}, fmt.Errorf("session: aud %q", c.Audience)
	case now.Unix() >= c.Expiry:
		return Claims{}, fmt.Errorf("session: expired")
	}
	return c, nil
}
