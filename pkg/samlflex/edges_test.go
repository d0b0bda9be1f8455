package samlflex

import (
	"crypto/x509"
	"errors"
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
