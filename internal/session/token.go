package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
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
	// Alg picks the signature (zero value: ES256, see Alg).
	Alg Alg
}

// Alg is the session token's signature algorithm, a deployment setting
// (serve's and dev's --session-token-alg, the functions'
// SAMLFLEX_SESSION_TOKEN_ALG).
type Alg string

const (
	// ES256 (the default) signs with the current pair's P-256 token key: a
	// small fraction of the cost of an RSA-2048 signature, which made
	// issuing the token cost as much as verifying the SAML response. A set
	// stored before token keys existed has none, and gets RS256.
	ES256 Alg = "ES256"
	// RS256 signs with the current pair's own key (the SAML SP key), as
	// every samlflex before token keys did: for a relying party that only
	// accepts RS256.
	RS256 Alg = "RS256"
)

// ParseAlg reads a setting: ES256 or RS256 (any case); empty is ES256.
func ParseAlg(v string) (Alg, error) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "", string(ES256):
		return ES256, nil
	case string(RS256):
		return RS256, nil
	}
	return "", fmt.Errorf("session token algorithm %q: use ES256 or RS256", v)
}

// Issue signs a token with the key set's current pair: with its token key
// (ES256) unless in.Alg is RS256 or the pair has none, else with the pair's
// own key (RS256, or ES256 for a P-256 pair). The kid is the signing key's.
// rnd is the source of the jti (nil: crypto/rand).
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
	var (
		key crypto.Signer = set.Current.Signer
		kid               = set.Current.Kid
	)
	if t := set.Current.Token; t != nil && in.Alg != RS256 {
		key, kid = t.Signer, t.Kid
	}
	alg, err := algorithmFor(key)
	if err != nil {
		return "", Claims{}, err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, err
	}
	tok, err := signCompact(key, alg, kid, payload)
	if err != nil {
		return "", Claims{}, err
	}
	return tok, c, nil
}

// jwsHeader is the protected header of every session token, in this
// field order.
type jwsHeader struct {
	Alg jose.SignatureAlgorithm `json:"alg"`
	Kid string                  `json:"kid"`
	Typ string                  `json:"typ"`
}

// signCompact writes a JWS in compact serialization (RFC 7515 section
// 7.1) over payload: the header, the payload and the signature, each
// base64url without padding. ES256's signature is R and S as 32 bytes each
// (RFC 7518 section 3.4), not the ASN.1 a crypto.Signer returns. It does
// what go-jose's Signer did for these two algorithms at half its cost (a
// login's token took 69 us, 29 of them the ECDSA signature); go-jose still
// verifies them (Verify, and every test).
func signCompact(key crypto.Signer, alg jose.SignatureAlgorithm, kid string, payload []byte) (string, error) {
	hdr, err := json.Marshal(jwsHeader{Alg: alg, Kid: kid, Typ: "JWT"})
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding
	buf := make([]byte, 0, b64.EncodedLen(len(hdr))+1+b64.EncodedLen(len(payload))+1+b64.EncodedLen(512))
	buf = b64.AppendEncode(buf, hdr)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)
	h := sha256.Sum256(buf)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("session: sign: %w", err)
	}
	if alg == jose.ES256 {
		if sig, err = rawECDSA(sig); err != nil {
			return "", fmt.Errorf("session: sign: %w", err)
		}
	}
	buf = append(buf, '.')
	return string(b64.AppendEncode(buf, sig)), nil
}

// rawECDSA turns an ASN.1 ECDSA-Sig-Value on P-256 into R || S, 32 bytes
// each.
func rawECDSA(der []byte) ([]byte, error) {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &v)
	switch {
	case err != nil:
		return nil, err
	case len(rest) != 0:
		return nil, fmt.Errorf("trailing data after the ECDSA signature")
	case v.R.Sign() <= 0 || v.S.Sign() <= 0 || v.R.BitLen() > 256 || v.S.BitLen() > 256:
		return nil, fmt.Errorf("ECDSA signature out of range for P-256")
	}
	out := make([]byte, 64)
	v.R.FillBytes(out[:32])
	v.S.FillBytes(out[32:])
	return out, nil
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

// JWKS returns the public keys that verify session tokens: those of
// current, previous (tokens issued before the last rotation are still
// valid until they expire) and next (so that verifiers can cache it before
// it signs). Each pair contributes its token key (EC, ES256) and its own
// key: tokens issued with RS256 (before token keys existed, or by a
// deployment set to RS256) verify until they expire.
func JWKS(set *keys.Set) ([]byte, error) {
	var ks jose.JSONWebKeySet
	for _, p := range set.Verifying() {
		if p.Token != nil {
			ks.Keys = append(ks.Keys, jose.JSONWebKey{Key: p.Token.Signer.Public(), KeyID: p.Token.Kid, Algorithm: string(jose.ES256), Use: "sig"})
		}
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
