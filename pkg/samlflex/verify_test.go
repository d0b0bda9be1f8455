package samlflex

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fixed values of the golden responses (see testdata/README.md).
const (
	testSID       = "AC0123456789abcdef0123456789abcdef"
	testBase      = "https://sso.example.com"
	testIssuer    = "https://acme.my.salesforce.com"
	testRequestID = "_samlflex_0123456789abcdef0123456789abcdef"
)

// testNow lies inside every golden assertion's validity window.
var testNow = time.Date(2026, 1, 15, 10, 0, 10, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encode(xml []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(xml))
}

func testAccount(t testing.TB, certs ...string) Account {
	t.Helper()
	if len(certs) == 0 {
		certs = []string{"idp-rsa.crt"}
	}
	a := Account{
		AccountSID:   testSID,
		FriendlyName: "Salesforce",
		IdPIssuer:    testIssuer,
		IdPSSOURL:    "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect",
		StartURL:     "https://flex.example.com/agent-desktop",
	}
	for _, c := range certs {
		a.IdPCertificates = append(a.IdPCertificates, string(readTestdata(t, "keys/"+c)))
	}
	return a
}

func newTestVerifier(t testing.TB, a Account, now time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Account: a, BaseURL: testBase, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// caseVerifier is the verifier of a table case: testAccount trusting certs
// (none: the golden IdP's), changed by edit when not nil, at now (zero:
// testNow), checking against urls (nil: those of testBase).
func caseVerifier(t testing.TB, certs []string, edit func(*Account), now time.Time, urls *URLs) *Verifier {
	t.Helper()
	a := testAccount(t, certs...)
	if edit != nil {
		edit(&a)
	}
	if now.IsZero() {
		now = testNow
	}
	v, err := NewVerifier(VerifierConfig{Account: a, BaseURL: testBase, URLs: urls, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted; want %s", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *samlflex.Error", err)
	}
	if e.Code != code {
		t.Fatalf("code %s (%v); want %s", e.Code, err, code)
	}
	if e.Public == "" {
		t.Fatalf("error %v has no public message", err)
	}
	wantTraceAgrees(t, err)
}

// wantTraceAgrees holds the decision trace to Verify's answer: the
// primary code is the first failed check's (for the codes that checks
// name: a structural error such as malformed_response may stop Verify
// anywhere), and no check that the
// trace shows as passed carries a code.
func wantTraceAgrees(t *testing.T, err error) {
	t.Helper()
	tr := TraceOf(err)
	if tr == nil {
		return
	}
	for _, c := range tr.Checks {
		if c.OK == (c.Code != "") {
			t.Fatalf("check %s: ok %v with code %q", c.Name, c.OK, c.Code)
		}
	}
	failed := tr.Failed()
	if len(failed) > 0 && isCheckCode(CodeOf(err)) && failed[0].Code != CodeOf(err) {
		t.Fatalf("primary %s but the first failed check is %s (%s): %+v", CodeOf(err), failed[0].Name, failed[0].Code, tr.Checks)
	}
	if len(failed) == 0 && isCheckCode(CodeOf(err)) {
		t.Fatalf("refused with %s but the trace shows no failed check: %+v", CodeOf(err), tr.Checks)
	}
}

// isCheckCode: codes that a trace check names (the others are structural
// and stop before or outside the checks).
func isCheckCode(c Code) bool {
	switch c {
	case CodeStatusNotSuccess, CodeSHA1NotAllowed, CodeSignatureMissing, CodeSignatureInvalid, CodeCertificateUntrusted,
		CodeCertificateExpired, CodeIssuerMismatch, CodeDestinationMismatch, CodeAssertionExpired, CodeAssertionNotYetValid,
		CodeAudienceMismatch, CodeRecipientMismatch, CodeAssertionTooOld, CodeUnsolicitedNotAllowed, CodeUnknownRequest,
		CodeInResponseToMismatch:
		return true
	}
	return false
}

func TestVerifyGolden(t *testing.T) {
	t.Parallel()
	allow := func(a *Account) { a.AllowSHA1 = true }
	off := false
	tests := []struct {
		name     string
		file     string
		certs    []string
		edit     func(*Account)
		expect   Expect
		now      time.Time
		wantCode Code
		check    func(*testing.T, *Assertion)
	}{
		{name: "response signed (Salesforce default)", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			check: func(t *testing.T, a *Assertion) {
				if a.Signed != "response" || a.NameID != "jane.doe@acme.example" || a.Unsolicited || a.IssuerRule != IssuerExact {
					t.Fatalf("got %+v", a)
				}
				if got := a.Attributes["roles"]; !slices.Equal(got, []string{"agent, supervisor"}) {
					t.Fatalf("roles %q", got)
				}
				want := time.Date(2026, 1, 15, 10, 20, 0, 0, time.UTC)
				if !a.NotOnOrAfter.Equal(want) {
					t.Fatalf("NotOnOrAfter %s, want %s (assertion expiry + the largest skew)", a.NotOnOrAfter, want)
				}
			}},
		{name: "assertion signed", file: "assertion-signed.xml", expect: Expect{RequestID: testRequestID},
			check: func(t *testing.T, a *Assertion) {
				if a.Signed != "assertion" {
					t.Fatalf("signed %q", a.Signed)
				}
			}},
		{name: "both signed", file: "both-signed.xml", expect: Expect{RequestID: testRequestID},
			check: func(t *testing.T, a *Assertion) {
				if a.Signed != "response+assertion" {
					t.Fatalf("signed %q", a.Signed)
				}
			}},
		{name: "ECDSA", file: "response-signed-ecdsa.xml", certs: []string{"idp-ec.crt"}, expect: Expect{RequestID: testRequestID}},
		{name: "RSA-SHA512", file: "response-signed-sha512.xml", expect: Expect{RequestID: testRequestID}},
		{name: "c14n with comments", file: "response-signed-with-comments-c14n.xml", expect: Expect{RequestID: testRequestID}},
		{name: "no KeyInfo, one cert", file: "no-keyinfo.xml", expect: Expect{RequestID: testRequestID}},
		{name: "no KeyInfo, rollover with two certs", file: "no-keyinfo.xml", certs: []string{"other-rsa.crt", "idp-rsa.crt"}, expect: Expect{RequestID: testRequestID}},
		{name: "rollover: second trusted cert signs", file: "response-signed.xml", certs: []string{"other-rsa.crt", "idp-rsa.crt"}, expect: Expect{RequestID: testRequestID}},
		{name: "SHA-1 allowed", file: "response-signed-sha1.xml", edit: allow, expect: Expect{RequestID: testRequestID}},
		{name: "unsolicited allowed by default", file: "unsolicited.xml",
			check: func(t *testing.T, a *Assertion) {
				if !a.Unsolicited || a.InResponseTo != "" {
					t.Fatalf("got %+v", a)
				}
			}},
		{name: "unsolicited while a login cookie lingers", file: "unsolicited.xml", expect: Expect{RequestID: testRequestID}},
		{name: "Salesforce-style issuer from the setup guide", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			edit: func(a *Account) { a.IdPIssuer = "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect/" },
			check: func(t *testing.T, a *Assertion) {
				if a.IssuerRule != IssuerNormalized {
					t.Fatalf("rule %q", a.IssuerRule)
				}
			}},
		{name: "issuer with trailing slash", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			edit: func(a *Account) { a.IdPIssuer = testIssuer + "/" }},
		{name: "skew edge: not yet valid", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			now: time.Date(2026, 1, 15, 9, 56, 29, 999e6, time.UTC), wantCode: CodeAssertionNotYetValid},
		{name: "skew edge: just valid", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			now: time.Date(2026, 1, 15, 9, 56, 30, 0, time.UTC)},
		{name: "skew edge: last valid instant", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			now: time.Date(2026, 1, 15, 10, 7, 59, 999e6, time.UTC)},
		{name: "skew edge: expired", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			now: time.Date(2026, 1, 15, 10, 8, 0, 0, time.UTC), wantCode: CodeAssertionExpired},
		{name: "zero skew is the default, not zero", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			now: time.Date(2026, 1, 15, 10, 5, 1, 0, time.UTC)},
		{name: "smaller skew", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			edit: func(a *Account) { a.ClockSkew = Duration(time.Second) },
			now:  time.Date(2026, 1, 15, 10, 5, 1, 0, time.UTC), wantCode: CodeAssertionExpired},

		{name: "SHA-1 refused by default", file: "response-signed-sha1.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeSHA1NotAllowed},
		{name: "wrong key", file: "response-signed-other-key.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeCertificateUntrusted},
		{name: "wrong key, no KeyInfo", file: "no-keyinfo.xml", certs: []string{"other-rsa.crt"}, expect: Expect{RequestID: testRequestID}, wantCode: CodeSignatureInvalid},
		{name: "expired IdP certificate", file: "response-signed-expired-cert.xml", certs: []string{"idp-rsa-expired.crt"}, expect: Expect{RequestID: testRequestID}, wantCode: CodeCertificateExpired},
		{name: "ECDSA signature, only RSA trusted", file: "response-signed-ecdsa.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeCertificateUntrusted},
		{name: "unsolicited refused when IdP-initiated is off", file: "unsolicited.xml", edit: func(a *Account) { a.AllowIdPInitiated = &off }, wantCode: CodeUnsolicitedNotAllowed},
		{name: "solicited response, no login tracked", file: "response-signed.xml", wantCode: CodeUnknownRequest},
		{name: "InResponseTo of another login", file: "response-signed.xml", expect: Expect{RequestID: "_samlflex_ffffffffffffffffffffffffffffffff"}, wantCode: CodeInResponseToMismatch},
		{name: "status denied", file: "status-denied.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeStatusNotSuccess},
		{name: "two assertions", file: "two-assertions.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeMultipleAssertions},
		{name: "encrypted assertion", file: "encrypted-assertion.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeEncryptedAssertion},
		{name: "issuer mismatch", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			edit: func(a *Account) { a.IdPIssuer = "https://evil.my.salesforce.com" }, wantCode: CodeIssuerMismatch},
		{name: "issuer of another path is not normalized away", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			edit: func(a *Account) { a.IdPIssuer = testIssuer + "/other" }, wantCode: CodeIssuerMismatch},
		{name: "response too large", file: "response-signed.xml", expect: Expect{RequestID: testRequestID},
			edit: func(a *Account) { a.MaxResponseBytes = 1024 }, wantCode: CodeResponseTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := caseVerifier(t, tc.certs, tc.edit, tc.now, nil)
			got, tr, err := v.VerifyTrace(encode(readTestdata(t, tc.file)), tc.expect)
			wantCode(t, err, tc.wantCode)
			if err == nil && len(tr.Failed()) > 0 {
				t.Fatalf("accepted, but the trace shows failed checks: %+v", tr.Failed())
			}
			if err == nil && tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// TestVerifyBase64Files checks the committed .b64 form (what the ACS
// receives) decodes to the same verdict, including line-wrapped base64.
func TestVerifyBase64Files(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t), testNow)
	b64 := readTestdata(t, "response-signed.b64")
	if _, err := v.Verify(b64, Expect{RequestID: testRequestID}); err != nil {
		t.Fatal(err)
	}
	var wrapped []byte
	for i := 0; i < len(b64); i += 76 {
		wrapped = append(wrapped, b64[i:min(i+76, len(b64))]...)
		wrapped = append(wrapped, '\r', '\n')
	}
	if _, err := v.Verify(wrapped, Expect{RequestID: testRequestID}); err != nil {
		t.Fatalf("76-column base64: %v", err)
	}
	_, err := v.Verify([]byte("not base64!"), Expect{})
	wantCode(t, err, CodeMalformedResponse)
}

// TestVerifyAudienceAndRecipient uses explicit SP URLs to move one
// identifier at a time away from what the golden response names.
func TestVerifyAudienceAndRecipient(t *testing.T) {
	t.Parallel()
	good, err := URLsFor(testBase, testSID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		urls URLs
		want Code
	}{
		{"audience", "response-signed.xml", URLs{EntityID: "https://sso.example.com/other", ACS: good.ACS}, CodeAudienceMismatch},
		{"destination (signed response)", "response-signed.xml", URLs{EntityID: good.EntityID, ACS: good.ACS + "x"}, CodeDestinationMismatch},
		{"destination (unsigned envelope)", "assertion-signed.xml", URLs{EntityID: good.EntityID, ACS: good.ACS + "x"}, CodeDestinationMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(VerifierConfig{Account: testAccount(t), URLs: &tc.urls, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(encode(readTestdata(t, tc.file)), Expect{RequestID: testRequestID})
			wantCode(t, err, tc.want)
		})
	}
}

// TestVerifyRecipient removes the envelope's Destination from the
// assertion-signed response (the envelope is not signed there, so this
// keeps the signature valid) and moves the ACS: only the signed
// SubjectConfirmationData Recipient is left to catch it.
func TestVerifyRecipient(t *testing.T) {
	t.Parallel()
	good, _ := URLsFor(testBase, testSID)
	doc := strings.Replace(string(readTestdata(t, "assertion-signed.xml")), ` Destination="`+good.ACS+`"`, "", 1)
	urls := URLs{EntityID: good.EntityID, ACS: good.ACS + "/other"}
	v, err := NewVerifier(VerifierConfig{Account: testAccount(t), URLs: &urls, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeRecipientMismatch)
}

// TestVerifySalesforceCapture runs the real response signed by a Salesforce
// org (testdata/salesforce) with the settings that accept it.
func TestVerifySalesforceCapture(t *testing.T) {
	t.Parallel()
	acct := Account{
		AccountSID:      testSID,
		FriendlyName:    "kolide-dev-ed",
		IdPCertificates: []string{string(readTestdata(t, "salesforce/salesforce-idp-2017.crt"))},
		IdPIssuer:       "https://kolide-dev-ed.my.salesforce.com/idp/endpoint/HttpRedirect",
		AllowSHA1:       true,
	}
	urls := URLs{EntityID: "kolide", ACS: "https://localhost:8080/api/v1/kolide/sso/callback"}
	now := time.Date(2017, 4, 30, 22, 9, 50, 0, time.UTC)
	newV := func(a Account, now time.Time) *Verifier {
		v, err := NewVerifier(VerifierConfig{Account: a, URLs: &urls, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	raw := readTestdata(t, "salesforce/response-2017-04-30.xml")
	b64 := readTestdata(t, "salesforce/response-2017-04-30.b64")
	exp := Expect{RequestID: "3916979e-3ae2-4e83-87b4-fe2eb884b891"}

	a, err := newV(acct, now).Verify(b64, exp)
	if err != nil {
		t.Fatalf("real Salesforce response refused: %v", err)
	}
	if a.NameID != "john@kolide.co" || a.Signed != "response+assertion" || a.IssuerRule != IssuerNormalized {
		t.Fatalf("got %+v", a)
	}
	if _, err := Map(a, (&Account{}).Mapping()); CodeOf(err) != CodeNoRoles {
		t.Fatalf("capture has no roles attribute: want no_roles, got %v", err)
	}
	id, err := Map(a, Mapping{FullNameAttr: "full_name", RolesAttr: "roles", EmailAttr: "email", DefaultRoles: []string{"agent"}})
	if err != nil || id.Email != "john@kolide.co" || id.FullName != "john@kolide.co" || !slices.Equal(id.Roles, []string{"agent"}) {
		t.Fatalf("mapping: %+v %v", id, err)
	}

	noSHA1 := acct
	noSHA1.AllowSHA1 = false
	_, err = newV(noSHA1, now).Verify(b64, exp)
	wantCode(t, err, CodeSHA1NotAllowed)

	_, err = newV(acct, time.Date(2017, 4, 30, 22, 16, 27, 0, time.UTC)).Verify(b64, exp)
	wantCode(t, err, CodeAssertionExpired)

	// Any change to a byte inside the assertion must make it fail.
	tampered := strings.Replace(string(raw), ">john@kolide.co</saml:NameID>", ">jane@kolide.co</saml:NameID>", 1)
	_, err = newV(acct, now).Verify(encode([]byte(tampered)), exp)
	wantCode(t, err, CodeSignatureInvalid)
}
