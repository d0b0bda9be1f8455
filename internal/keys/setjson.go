package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"
)

// setJSON is the stored form of a Set: the Secrets Manager secret string and
// the local key file. Field names are part of the storage format.
type setJSON struct {
	Previous *pairJSON `json:"previous"`
	Current  *pairJSON `json:"current"`
	Next     *pairJSON `json:"next"`
}

type pairJSON struct {
	Kid string `json:"kid"`
	// PrivateKey is PKCS#8 PEM ("PRIVATE KEY"), the one encoding that holds
	// RSA and ECDSA keys alike.
	PrivateKey  string `json:"private_key"`
	Certificate string `json:"certificate"`
	// CurrentSince (RFC 3339, UTC) is when the key started signing. Absent
	// in sets written before it was recorded, which therefore still parse.
	CurrentSince string `json:"current_since,omitempty"`
	// TokenKid and TokenPrivateKey (PKCS#8 PEM, ECDSA P-256) are the
	// session-token key (Pair.Token). Absent in sets written before token
	// keys existed, which therefore still parse; one without the other is
	// an error.
	TokenKid        string `json:"token_kid,omitempty"`
	TokenPrivateKey string `json:"token_private_key,omitempty"`
}

// minRSABits rejects RSA keys that are too weak to sign SAML requests.
const minRSABits = 2048

// MarshalSet encodes s in the stored JSON form. It checks every pair the way
// ParseSet does, so that nothing is written that could not be read back.
func MarshalSet(s *Set) ([]byte, error) {
	if s == nil || s.Current == nil {
		return nil, &SetError{Slot: "current", Reason: "is required"}
	}
	var out setJSON
	for _, slot := range []struct {
		name string
		p    *Pair
		dst  **pairJSON
	}{
		{"previous", s.Previous, &out.Previous},
		{"current", s.Current, &out.Current},
		{"next", s.Next, &out.Next},
	} {
		if slot.p == nil {
			continue
		}
		pj, err := marshalPair(slot.name, slot.p)
		if err != nil {
			return nil, err
		}
		*slot.dst = pj
	}
	if err := checkDistinct(s); err != nil {
		return nil, err
	}
	if err := checkSince(s); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keys: marshal set: %w", err)
	}
	return b, nil
}

func marshalPair(slot string, p *Pair) (*pairJSON, error) {
	if p.Signer == nil || p.Certificate == nil {
		return nil, &SetError{Slot: slot, Reason: "key and certificate are required"}
	}
	if err := checkPair(slot, p); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(p.Signer)
	if err != nil {
		// A signer backed by an HSM or KMS cannot be exported: it does not
		// belong in a stored set.
		return nil, &SetError{Slot: slot, Reason: "private key cannot be encoded as PKCS#8", Err: err}
	}
	pj := &pairJSON{
		Kid:         p.Kid,
		PrivateKey:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate.Raw})),
	}
	if !p.CurrentSince.IsZero() {
		pj.CurrentSince = p.CurrentSince.UTC().Format(time.RFC3339Nano)
	}
	if p.Token != nil {
		if err := checkToken(slot, p.Token); err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(p.Token.Signer)
		if err != nil {
			return nil, &SetError{Slot: slot, Reason: "token key cannot be encoded as PKCS#8", Err: err}
		}
		pj.TokenKid = p.Token.Kid
		pj.TokenPrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	return pj, nil
}

// ParseSet decodes the stored JSON form strictly: unknown fields, a missing
// current pair, a kid that is not derived from the key, a key that does not
// match its certificate, or the same key in two slots are errors (a
// *SetError, matching ErrInvalidSet). A half-valid set is never returned:
// signing with a key whose certificate is not the published one would make
// every IdP reject our requests.
//
// Errors never quote the input, because the input holds private keys.
func ParseSet(b []byte) (*Set, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	// Unknown fields are rejected so that a typo ("curent") fails loudly
	// instead of being read as a set without that slot.
	dec.DisallowUnknownFields()
	var in setJSON
	if err := dec.Decode(&in); err != nil {
		return nil, &SetError{Reason: describeJSONError(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &SetError{Reason: "unexpected data after the JSON object"}
	}
	if in.Current == nil {
		return nil, &SetError{Slot: "current", Reason: "is required"}
	}
	var s Set
	for _, slot := range []struct {
		name string
		src  *pairJSON
		dst  **Pair
	}{
		{"previous", in.Previous, &s.Previous},
		{"current", in.Current, &s.Current},
		{"next", in.Next, &s.Next},
	} {
		if slot.src == nil {
			continue
		}
		p, err := parsePair(slot.name, slot.src)
		if err != nil {
			return nil, err
		}
		*slot.dst = p
	}
	if err := checkDistinct(&s); err != nil {
		return nil, err
	}
	if err := checkSince(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// describeJSONError names the kind of JSON problem without echoing input:
// encoding/json's messages can include string values, and the values here
// are private keys.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON (syntax error at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong JSON type", typ.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated JSON"
	default:
		// DisallowUnknownFields reports `json: unknown field "name"`; a
		// field name is not key material.
		return "not a key set: " + err.Error()
	}
}

func parsePair(slot string, pj *pairJSON) (*Pair, error) {
	if pj.Kid == "" {
		return nil, &SetError{Slot: slot, Reason: "kid is required"}
	}
	key, err := parsePrivateKeyPEM(slot, "private_key", pj.PrivateKey)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, &SetError{Slot: slot, Reason: "private_key cannot sign"}
	}
	certBlock, rest := pem.Decode([]byte(pj.Certificate))
	if certBlock == nil || certBlock.Type != "CERTIFICATE" {
		return nil, &SetError{Slot: slot, Reason: "certificate is not a PEM CERTIFICATE block"}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, &SetError{Slot: slot, Reason: "certificate has data after the PEM block"}
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, &SetError{Slot: slot, Reason: "certificate cannot be parsed", Err: err}
	}
	p := &Pair{Kid: pj.Kid, Signer: signer, Certificate: cert}
	if pj.CurrentSince != "" {
		if p.CurrentSince, err = time.Parse(time.RFC3339, pj.CurrentSince); err != nil {
			return nil, &SetError{Slot: slot, Reason: "current_since is not an RFC 3339 time"}
		}
	}
	if err := checkPair(slot, p); err != nil {
		return nil, err
	}
	switch {
	case pj.TokenKid == "" && pj.TokenPrivateKey == "":
		// A set written before token keys: tokens stay RS256.
	case pj.TokenKid == "" || pj.TokenPrivateKey == "":
		return nil, &SetError{Slot: slot, Reason: "token_kid and token_private_key go together"}
	default:
		key, err := parsePrivateKeyPEM(slot, "token_private_key", pj.TokenPrivateKey)
		if err != nil {
			return nil, err
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, &SetError{Slot: slot, Reason: fmt.Sprintf("token_private_key must be an ECDSA P-256 key, not %T", key)}
		}
		p.Token = &TokenKey{Kid: pj.TokenKid, Signer: ec}
		if err := checkToken(slot, p.Token); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parsePrivateKeyPEM decodes field, which must hold exactly one PKCS#8
// "PRIVATE KEY" PEM block.
func parsePrivateKeyPEM(slot, field, text string) (any, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil {
		return nil, &SetError{Slot: slot, Reason: field + " is not PEM"}
	}
	if block.Type != "PRIVATE KEY" {
		return nil, &SetError{Slot: slot, Reason: fmt.Sprintf("%s must be a PKCS#8 \"PRIVATE KEY\" PEM block, not %q", field, block.Type)}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, &SetError{Slot: slot, Reason: field + " has data after the PEM block"}
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, &SetError{Slot: slot, Reason: field + " is not a PKCS#8 key", Err: err}
	}
	return key, nil
}

// checkToken verifies a token key: ECDSA P-256 and a kid derived from it.
func checkToken(slot string, t *TokenKey) error {
	if t.Signer == nil {
		return &SetError{Slot: slot, Reason: "token key is required when the pair has a token entry"}
	}
	if t.Signer.Curve != elliptic.P256() {
		return &SetError{Slot: slot, Reason: "token key must use curve P-256"}
	}
	kid, err := KidFor(t.Signer.Public())
	if err != nil {
		return &SetError{Slot: slot, Reason: "cannot derive the token kid", Err: err}
	}
	if kid != t.Kid {
		return &SetError{Slot: slot, Reason: "token_kid does not match the token key (it must be derived from the public key)"}
	}
	return nil
}

// checkPair verifies the invariants of one pair: a supported key type and
// size, the certificate certifies this key, and the kid is derived from it.
func checkPair(slot string, p *Pair) error {
	switch k := p.Signer.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return &SetError{Slot: slot, Reason: fmt.Sprintf("RSA key has %d bits; at least %d are required", k.N.BitLen(), minRSABits)}
		}
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return &SetError{Slot: slot, Reason: "ECDSA key must use curve P-256"}
		}
	default:
		return &SetError{Slot: slot, Reason: fmt.Sprintf("unsupported key type %T (use RSA or ECDSA P-256)", p.Signer)}
	}
	pub, ok := p.Signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(p.Certificate.PublicKey) {
		return &SetError{Slot: slot, Reason: "private key does not match the certificate's public key"}
	}
	kid, err := KidFor(p.Signer.Public())
	if err != nil {
		return &SetError{Slot: slot, Reason: "cannot derive the kid", Err: err}
	}
	if kid != p.Kid {
		return &SetError{Slot: slot, Reason: "kid does not match the key (it must be derived from the public key)"}
	}
	return nil
}

// checkSince rejects a next key recorded as having been current: no
// rotation produces one, so the set was edited by hand or built wrongly,
// and trusting the time could retire a key too early.
func checkSince(s *Set) error {
	if s.Next != nil && !s.Next.CurrentSince.IsZero() {
		return &SetError{Slot: "next", Reason: "has current_since, but a next key has never been current"}
	}
	return nil
}

// checkDistinct rejects a set that holds one key in two places (two slots,
// or a token key that is also another key): ByKid and the JWKS would be
// ambiguous and a rotation would not change the signing key.
func checkDistinct(s *Set) error {
	seen := map[string]string{}
	for _, slot := range s.filledSlots() {
		if other, dup := seen[slot.p.Kid]; dup {
			return &SetError{Slot: slot.name, Reason: "holds the same key as " + other}
		}
		seen[slot.p.Kid] = slot.name
	}
	for _, slot := range s.filledSlots() {
		if slot.p.Token == nil {
			continue
		}
		if other, dup := seen[slot.p.Token.Kid]; dup {
			return &SetError{Slot: slot.name, Reason: "token key is the same key as " + other}
		}
		seen[slot.p.Token.Kid] = slot.name + "'s token key"
	}
	return nil
}
