package samlflex

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// TestAuthnRequestRelayStateLimit: SAML bindings 3.4.3 allow 80 bytes of
// RelayState; exactly 80 must pass.
func TestAuthnRequestRelayStateLimit(t *testing.T) {
	t.Parallel()
	urls, _ := URLsFor(testBase, testSID)
	opts := AuthnRequestOptions{IdPSSOURL: "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect", URLs: urls, Now: testNow}
	opts.RelayState = strings.Repeat("x", maxRelayState)
	if _, err := NewAuthnRequest(opts); err != nil {
		t.Fatalf("RelayState of exactly %d bytes: %v", maxRelayState, err)
	}
	opts.RelayState += "x"
	if _, err := NewAuthnRequest(opts); CodeOf(err) != CodeBadRequest {
		t.Fatalf("RelayState of %d bytes: %v, want %s", maxRelayState+1, err, CodeBadRequest)
	}
}

// TestMetadataWithoutCacheDuration: no cacheDuration attribute unless one
// is configured ("PT0S" would tell IdPs never to cache the metadata).
func TestMetadataWithoutCacheDuration(t *testing.T) {
	t.Parallel()
	urls, _ := URLsFor(testBase, testSID)
	cert, err := ParseCertificate(string(readTestdata(t, "keys/idp-rsa.crt")))
	if err != nil {
		t.Fatal(err)
	}
	md, err := Metadata(MetadataOptions{URLs: urls, Certificates: []*x509.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(md), "cacheDuration") || strings.Contains(string(md), "validUntil") {
		t.Fatalf("metadata without a configured lifetime carries one:\n%s", md)
	}
}

// TestErrorWithoutDetail: an *Error without Err still logs its code and
// public message.
func TestErrorWithoutDetail(t *testing.T) {
	t.Parallel()
	e := &Error{Code: CodeAssertionReplayed, Public: "Seen before."}
	if got := e.Error(); got != "assertion_replayed: Seen before." {
		t.Fatalf("Error() = %q", got)
	}
	if errors.Unwrap(e) != nil {
		t.Fatal("no detail to unwrap")
	}
}

// TestVerifyECDSAForms: an ECDSA SignatureValue verifies in the XML-DSig
// form (r||s, each half padded to the curve size) and as DER, and not when
// it is cut, altered, or made by another key.
func TestVerifyECDSAForms(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("SignedInfo"))
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 64)
	rs.R.FillBytes(raw[:32])
	rs.S.FillBytes(raw[32:])
	flipped := bytes.Clone(raw)
	flipped[40] ^= 1
	for _, tc := range []struct {
		name  string
		pub   *ecdsa.PublicKey
		value []byte
		want  bool
	}{
		{"r||s", &key.PublicKey, raw, true},
		{"DER", &key.PublicKey, der, true},
		{"r||s cut by one byte", &key.PublicKey, raw[:63], false},
		{"r||s altered", &key.PublicKey, flipped, false},
		{"r||s by another key", &other.PublicKey, raw, false},
		{"DER by another key", &other.PublicKey, der, false},
	} {
		if got := verifyECDSA(tc.pub, digest[:], tc.value); got != tc.want {
			t.Errorf("%s: verified %v, want %v", tc.name, got, tc.want)
		}
	}
}
