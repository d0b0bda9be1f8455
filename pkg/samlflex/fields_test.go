package samlflex

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	dsig "github.com/russellhaering/goxmldsig"
)

// TestVerifyReadsEveryField pins every field Verify returns for the
// Salesforce-shaped golden response, so a check that stops reading a value
// (or reads it from the wrong element) fails here.
func TestVerifyReadsEveryField(t *testing.T) {
	t.Parallel()
	cert, err := ParseCertificate(string(readTestdata(t, "keys/idp-rsa.crt")))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.Raw)
	want := Assertion{
		ID:           "_asrt0001",
		ResponseID:   "_resp0001",
		Issuer:       testIssuer,
		IssuerRule:   IssuerExact,
		NameID:       "jane.doe@acme.example",
		NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		InResponseTo: testRequestID,
		RequestBound: true,
		IssueInstant: time.Date(2026, 1, 15, 10, 0, 0, 1e6, time.UTC),
		AuthnInstant: time.Date(2026, 1, 15, 9, 59, 59, 0, time.UTC),
		NotOnOrAfter: time.Date(2026, 1, 15, 10, 20, 0, 0, time.UTC),
		Attributes: map[string][]string{
			"userId": {"0055e000001AbCd"}, "username": {"jane.doe@acme.example"}, "email": {"jane.doe@acme.example"},
			"is_portal_user": {"false"}, "full_name": {"Jane Doe"}, "roles": {"agent, supervisor"},
		},
		Signed:             "response",
		SignatureAlgorithm: dsig.RSASHA256SignatureMethod,
		CertificateSHA256:  hex.EncodeToString(sum[:]),
	}
	got, err := newTestVerifier(t, testAccount(t), testNow).Verify(readTestdata(t, "response-signed.b64"), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("got  %+v\nwant %+v", *got, want)
	}
}

// TestVerifySizeBoundary: a response of exactly the configured size is
// read; one byte more is refused before decoding.
func TestVerifySizeBoundary(t *testing.T) {
	t.Parallel()
	b64 := readTestdata(t, "response-signed.b64")
	a := testAccount(t)
	a.MaxResponseBytes = len(b64)
	v := newTestVerifier(t, a, testNow)
	if _, err := v.Verify(b64, Expect{RequestID: testRequestID}); err != nil {
		t.Fatalf("response of exactly the limit refused: %v", err)
	}
	a.MaxResponseBytes = len(b64) - 1
	_, err := newTestVerifier(t, a, testNow).Verify(b64, Expect{RequestID: testRequestID})
	wantCode(t, err, CodeResponseTooLarge)
}

// TestVerifyCertificateErrorRanking: with several trusted certificates the
// most useful failure is reported whatever their order: an expired trusted
// certificate that made the signature beats "not our certificate".
func TestVerifyCertificateErrorRanking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		certs []string
		want  Code
	}{
		{"expired cert listed first", "response-signed-expired-cert.xml", []string{"idp-rsa-expired.crt", "idp-rsa.crt"}, CodeCertificateExpired},
		{"expired cert listed last", "response-signed-expired-cert.xml", []string{"idp-rsa.crt", "idp-rsa-expired.crt"}, CodeCertificateExpired},
		// Tampered after signing by other-rsa, whose certificate is in
		// KeyInfo: with other-rsa trusted the signature is bad, with
		// idp-rsa the KeyInfo certificate is not a trusted one.
		{"bad signature listed first", "", []string{"other-rsa.crt", "idp-rsa.crt"}, CodeSignatureInvalid},
		{"bad signature listed last", "", []string{"idp-rsa.crt", "other-rsa.crt"}, CodeSignatureInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := string(readTestdata(t, "response-signed-other-key.xml"))
			doc = strings.Replace(doc, "agent, supervisor", "admin", 1)
			if tc.file != "" {
				doc = string(readTestdata(t, tc.file))
			}
			_, err := newTestVerifier(t, testAccount(t, tc.certs...), testNow).Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
			wantCode(t, err, tc.want)
		})
	}
}

// TestVerifyWrongRootNamesIt: the log detail names the element found, so
// an admin can tell a LogoutResponse posted to the ACS from garbage.
func TestVerifyWrongRootNamesIt(t *testing.T) {
	t.Parallel()
	doc := `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Version="2.0"/>`
	_, err := newTestVerifier(t, testAccount(t), testNow).Verify(encode([]byte(doc)), Expect{})
	wantCode(t, err, CodeMalformedResponse)
	if !strings.Contains(err.Error(), "samlp:LogoutResponse in urn:oasis:names:tc:SAML:2.0:protocol") {
		t.Fatalf("detail %q does not name the root element", err.Error())
	}
}
