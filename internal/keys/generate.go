package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
)

// Algorithm is the key type of a generated pair.
type Algorithm string

// Supported algorithms. RSA2048 is the default everywhere because
// Salesforce's "Verify Request Signatures" and most SAML IdPs expect
// RSA-SHA256; P256 is offered for IdPs that accept ECDSA.
const (
	RSA2048 Algorithm = "RSA2048"
	P256    Algorithm = "P256"
)

// backdate is subtracted from NotBefore so that an IdP whose clock is a
// little behind ours does not reject a certificate generated a moment ago.
const backdate = 5 * time.Minute

// Generate creates a key of type alg and a self-signed certificate for it,
// valid from now-5m to now+validity. rand is used for the serial number and
// the certificate signature (and the key, where crypto/rsa and crypto/ecdsa
// still honour it).
func Generate(alg Algorithm, now time.Time, validity time.Duration, commonName string, rand io.Reader) (*Pair, error) {
	if validity <= 0 {
		return nil, errors.New("keys: generate: validity must be positive")
	}
	if strings.TrimSpace(commonName) == "" {
		return nil, errors.New("keys: generate: common name is required")
	}
	if rand == nil {
		return nil, errors.New("keys: generate: rand is required")
	}
	var (
		signer   crypto.Signer
		keyUsage x509.KeyUsage
		err      error
	)
	switch alg {
	case RSA2048:
		signer, err = rsa.GenerateKey(rand, 2048)
		// keyEncipherment: the same certificate may be used by IdPs that
		// encrypt assertions to the SP (RSA key transport).
		keyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	case P256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand)
		keyUsage = x509.KeyUsageDigitalSignature
	default:
		return nil, fmt.Errorf("keys: generate: unsupported algorithm %q (use %s or %s)", alg, RSA2048, P256)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	// 128 random bits: RFC 5280 allows up to 20 octets; randomness keeps
	// two certificates generated in the same second distinct.
	serial, err := randomSerial(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate).UTC(),
		NotAfter:              now.Add(validity).UTC(),
		KeyUsage:              keyUsage,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: parse certificate: %w", err)
	}
	kid, err := KidFor(signer.Public())
	if err != nil {
		return nil, err
	}
	tok, err := GenerateTokenKey(rand)
	if err != nil {
		return nil, err
	}
	return &Pair{Kid: kid, Signer: signer, Certificate: cert, Token: tok}, nil
}

// GenerateTokenKey creates a P-256 session-token key. Generate calls it for
// every pair (also a P256 one, so that every generated pair has the same
// shape), which makes the rotation, the seed and the key file carry the
// token key without code of their own.
func GenerateTokenKey(rand io.Reader) (*TokenKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, fmt.Errorf("keys: generate token key: %w", err)
	}
	kid, err := KidFor(k.Public())
	if err != nil {
		return nil, err
	}
	return &TokenKey{Kid: kid, Signer: k}, nil
}

func randomSerial(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("keys: generate: serial number: %w", err)
	}
	// Clear the top bit so the DER INTEGER stays positive without padding,
	// and never return zero (RFC 5280 §4.1.2.2: serials are positive).
	b[0] &= 0x7f
	n := new(big.Int).SetBytes(b)
	if n.Sign() == 0 {
		n.SetInt64(1)
	}
	return n, nil
}

// KidFor derives the key ID of a public key: base64url (no padding) of the
// first 16 bytes of the SHA-256 of its SubjectPublicKeyInfo. Deriving it
// (instead of storing a random one) means it cannot drift from the key, and
// anyone holding the certificate can recompute it.
func KidFor(pub crypto.PublicKey) (string, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keys: key ID: %w", err)
	}
	sum := sha256.Sum256(spki)
	return base64.RawURLEncoding.EncodeToString(sum[:16]), nil
}

// Fingerprint is the SHA-256 of the certificate's DER as colon-separated
// upper-case hex, the form `openssl x509 -fingerprint -sha256` prints, so
// that admins can compare it with what their IdP shows.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
