package samlflex

import (
	"bytes"
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

// TestRawECDSAToDER: only a value that is exactly one DER SEQUENCE is
// left alone; r||s is converted even when its first bytes happen to form
// a DER SEQUENCE followed by more bytes.
func TestRawECDSAToDER(t *testing.T) {
	t.Parallel()
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A DER signature of exactly 64 bytes (r and s of 29 bytes each).
	short := new(big.Int).Lsh(big.NewInt(1), 8*29-2)
	exact := der(short, short)
	if len(exact) != 64 {
		t.Fatalf("built %d bytes, want 64", len(exact))
	}
	if _, ok := rawECDSAToDER(exact); ok {
		t.Error("a 64-byte DER signature was rewritten")
	}
	// 64 bytes of r||s whose start is a complete DER SEQUENCE.
	prefix := der(big.NewInt(5), big.NewInt(7))
	raw := append(prefix, bytes.Repeat([]byte{0x11}, 64-len(prefix))...)
	out, ok := rawECDSAToDER(raw)
	if !ok {
		t.Fatal("r||s starting with a DER prefix was not converted")
	}
	var got struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(out, &got); err != nil || len(rest) != 0 {
		t.Fatalf("output is not one DER SEQUENCE: %v", err)
	}
	if got.R.Cmp(new(big.Int).SetBytes(raw[:32])) != 0 || got.S.Cmp(new(big.Int).SetBytes(raw[32:])) != 0 {
		t.Fatal("r and s are not the two halves of the input")
	}
	if _, ok := rawECDSAToDER(raw[:63]); ok {
		t.Error("a 63-byte value is no curve's r||s")
	}
}
