package samlflex

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// wantCheck finds a check in the trace and holds it to ok, code and
// substrings of its expected and received values.
type wantCheck struct {
	name     string
	ok       bool
	code     Code
	expected string // substring
	received string // substring
	note     string // substring
	message  string // substring
}

func assertChecks(t *testing.T, tr *Trace, wants []wantCheck) {
	t.Helper()
	for _, w := range wants {
		c, found := tr.Check(w.name)
		if !found {
			t.Errorf("no check %s in %+v", w.name, tr.Checks)
			continue
		}
		if c.OK != w.ok || c.Code != w.code {
			t.Errorf("check %s: ok %v code %q; want ok %v code %q (%+v)", w.name, c.OK, c.Code, w.ok, w.code, c)
		}
		for _, s := range []struct{ what, got, want string }{{"expected", c.Expected, w.expected}, {"received", c.Received, w.received}, {"note", c.Note, w.note}, {"message", c.Message, w.message}} {
			if !strings.Contains(s.got, s.want) {
				t.Errorf("check %s: %s %q lacks %q", w.name, s.what, s.got, s.want)
			}
		}
		if !c.OK && c.Setting == "" {
			t.Errorf("check %s failed without naming the setting to fix", w.name)
		}
	}
}

func fingerprintOf(t *testing.T, certFile string) string {
	t.Helper()
	c, err := ParseCertificate(string(readTestdata(t, "keys/"+certFile)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// TestTraceReportsEveryFailure: once the signature holds, every check is
// evaluated and every failure reported with both values; the error keeps
// the first one (in the documented order) as its code.
func TestTraceReportsEveryFailure(t *testing.T) {
	t.Parallel()
	ours, err := URLsFor(testBase, testSID)
	if err != nil {
		t.Fatal(err)
	}
	legacy := URLs{EntityID: "https://iam.twilio.com/v1/Accounts/" + testSID + "/saml2/metadata", ACS: "https://iam.twilio.com/v1/Accounts/" + testSID + "/saml2"}
	tests := []struct {
		name     string
		file     string
		urls     *URLs
		certs    []string
		edit     func(*Account)
		now      time.Time
		expect   Expect
		mapping  bool
		wantCode Code
		wantFail []string // failed checks, in order
		checks   []wantCheck
	}{
		{name: "wrong audience and destination (legacy iam.twilio.com values)", file: "response-signed.xml", urls: &legacy,
			expect: Expect{RequestID: testRequestID}, wantCode: CodeDestinationMismatch,
			wantFail: []string{CheckDestination, CheckAudience, CheckRecipient},
			checks: []wantCheck{
				{name: CheckDestination, code: CodeDestinationMismatch, expected: legacy.ACS, received: ours.ACS},
				{name: CheckAudience, code: CodeAudienceMismatch, expected: legacy.EntityID, received: ours.EntityID},
				{name: CheckRecipient, code: CodeRecipientMismatch, expected: legacy.ACS, received: ours.ACS},
				{name: CheckSignature, ok: true, received: fingerprintOf(t, "idp-rsa.crt"), note: "verified"},
				{name: CheckIssuer, ok: true, expected: testIssuer, received: testIssuer},
			}},
		{name: "another org's issuer and a lost login cookie", file: "response-signed.xml",
			edit: func(a *Account) { a.IdPIssuer = "https://other.my.salesforce.com" }, wantCode: CodeIssuerMismatch,
			wantFail: []string{CheckIssuer, CheckInResponseTo},
			checks: []wantCheck{
				{name: CheckIssuer, code: CodeIssuerMismatch, expected: "https://other.my.salesforce.com", received: testIssuer},
				{name: CheckInResponseTo, code: CodeUnknownRequest, received: testRequestID, note: "no login is tracked"},
			}},
		{name: "IdP clock 20 minutes ahead", file: "response-signed.xml", now: testNow.Add(-20 * time.Minute),
			expect: Expect{RequestID: testRequestID}, wantCode: CodeAssertionNotYetValid,
			wantFail: []string{CheckConditionsTime},
			checks: []wantCheck{
				{name: CheckConditionsTime, code: CodeAssertionNotYetValid, expected: "samlflex time 2026-01-15T09:40:10Z", received: "NotBefore 2026-01-15T09:59:30Z", note: "19m20s before NotBefore"},
			}},
		{name: "expired, and too old", file: "response-signed.xml", now: testNow.Add(2 * time.Hour),
			expect: Expect{RequestID: testRequestID}, wantCode: CodeAssertionExpired,
			wantFail: []string{CheckConditionsTime, CheckConfirmationTime, CheckAuthnAge},
			checks: []wantCheck{
				{name: CheckConditionsTime, code: CodeAssertionExpired, received: "NotOnOrAfter 2026-01-15T10:05:00Z", note: "after NotOnOrAfter"},
				{name: CheckAuthnAge, code: CodeAssertionTooOld, expected: "1h0m0s (max_authn_age)", received: "AuthnInstant 2026-01-15T09:59:59Z"},
			}},
		{name: "renewed IdP certificate not saved", file: "response-signed.xml", certs: []string{"other-rsa.crt"},
			expect: Expect{RequestID: testRequestID}, wantCode: CodeCertificateUntrusted,
			wantFail: []string{CheckSignature},
			checks: []wantCheck{
				{name: CheckSignature, code: CodeCertificateUntrusted, expected: fingerprintOf(t, "other-rsa.crt"),
					received: fingerprintOf(t, "idp-rsa.crt"), note: "presented, not trusted"},
			}},
		{name: "saved certificate expired", file: "response-signed-expired-cert.xml", certs: []string{"idp-rsa-expired.crt"},
			expect: Expect{RequestID: testRequestID}, wantCode: CodeCertificateExpired,
			wantFail: []string{CheckSignature},
			checks:   []wantCheck{{name: CheckSignature, code: CodeCertificateExpired, received: fingerprintOf(t, "idp-rsa-expired.crt"), note: "not valid at samlflex's time"}}},
		{name: "profile not assigned: status", file: "status-denied.xml", expect: Expect{RequestID: testRequestID}, wantCode: CodeStatusNotSuccess,
			wantFail: []string{CheckStatus},
			checks: []wantCheck{{name: CheckStatus, code: CodeStatusNotSuccess, expected: "Success",
				received: "Requester/RequestDenied", message: "StatusMessage: User does not have access to this service provider", note: "profile or permission set"}}},
		{name: "SHA-1 refused, and every other check still reported", file: "response-signed-sha1.xml", urls: &legacy,
			expect: Expect{RequestID: testRequestID}, wantCode: CodeSHA1NotAllowed,
			wantFail: []string{CheckAlgorithm, CheckDestination, CheckAudience, CheckRecipient},
			checks: []wantCheck{
				{name: CheckAlgorithm, code: CodeSHA1NotAllowed, received: "rsa-sha1", note: "stays refused"},
				{name: CheckSignature, ok: true},
			}},
		{name: "no roles, with the audience wrong too", file: "no-roles.xml", urls: &legacy, mapping: true,
			expect: Expect{RequestID: testRequestID}, wantCode: CodeDestinationMismatch,
			wantFail: []string{CheckDestination, CheckAudience, CheckRecipient, CheckRoles},
			checks: []wantCheck{
				{name: CheckRoles, code: CodeNoRoles, expected: "attribute roles", received: "no attribute roles", note: "attributes received: email, is_portal_user, userId, username"},
				{name: CheckFullNameAttribute, ok: true, received: "absent"},
			}},
		{name: "accepted: every check passes", file: "response-signed.xml", expect: Expect{RequestID: testRequestID}, mapping: true,
			checks: []wantCheck{
				{name: CheckRoles, ok: true, received: "roles = agent, supervisor"},
				{name: CheckInResponseTo, ok: true, received: testRequestID},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := caseVerifier(t, tc.certs, tc.edit, tc.now, tc.urls)
			_, tr, err := v.VerifyTrace(encode(readTestdata(t, tc.file)), tc.expect)
			wantCode(t, err, tc.wantCode)
			if err != nil && TraceOf(err) != tr {
				t.Fatal("the error does not carry the trace")
			}
			if tc.mapping {
				tr.CheckMapping(v.acct.Mapping())
			}
			var failed []string
			for _, c := range tr.Failed() {
				failed = append(failed, c.Name)
			}
			if strings.Join(failed, ",") != strings.Join(tc.wantFail, ",") {
				t.Errorf("failed checks %v, want %v", failed, tc.wantFail)
			}
			assertChecks(t, tr, tc.checks)
		})
	}
}

// TestTraceNeverHoldsPersonalData: the NameID and e-mail are personal
// data; the trace (logged) reports their presence only.
func TestTraceNeverHoldsPersonalData(t *testing.T) {
	t.Parallel()
	a := testAccount(t)
	v := newTestVerifier(t, a, testNow)
	_, tr, err := v.VerifyTrace(readTestdata(t, "response-signed.b64"), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatal(err)
	}
	tr.CheckMapping(a.Mapping())
	for _, c := range tr.Checks {
		all := c.Expected + c.Received + c.Note
		if strings.Contains(all, "jane.doe") || strings.Contains(all, "Jane") {
			t.Fatalf("check %s quotes personal data: %+v", c.Name, c)
		}
	}
}

// TestTraceCutsReceivedValues: a received value is IdP-controlled text
// and is cut like every quoted detail.
func TestTraceCutsReceivedValues(t *testing.T) {
	t.Parallel()
	var tr Trace
	tr.add(Check{Name: CheckAudience, Received: strings.Repeat("a", 5000), Note: strings.Repeat("b", 5000)})
	c := tr.Checks[0]
	if len(c.Received) > maxDetailText+32 || len(c.Note) > maxDetailText+32 || !strings.Contains(c.Received, "5000 bytes") {
		t.Fatalf("not cut: %d, %d bytes", len(c.Received), len(c.Note))
	}
}

// TestTraceMappingNeedsVerifiedContent: attributes of a response whose
// signature failed are not reported (nobody vouches for them).
func TestTraceMappingNeedsVerifiedContent(t *testing.T) {
	t.Parallel()
	a := testAccount(t, "other-rsa.crt")
	v := newTestVerifier(t, a, testNow)
	_, err := v.Verify(readTestdata(t, "response-signed.b64"), Expect{RequestID: testRequestID})
	tr := TraceOf(err)
	if tr == nil {
		t.Fatalf("no trace on %v", err)
	}
	tr.CheckMapping(a.Mapping())
	if _, ok := tr.Check(CheckRoles); ok {
		t.Fatalf("roles checked on unverified content: %+v", tr.Checks)
	}
}
