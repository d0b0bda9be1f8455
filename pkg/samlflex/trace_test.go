package samlflex

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
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
	// receivedIs, when not "", is the whole received value (a substring
	// cannot tell "x" from "x (Response Issuer: y)").
	receivedIs string
	// not, when not "", is a substring that none of expected, received
	// and note may hold.
	not string
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
		if w.receivedIs != "" && c.Received != w.receivedIs {
			t.Errorf("check %s: received %q, want exactly %q", w.name, c.Received, w.receivedIs)
		}
		if w.not != "" && strings.Contains(c.Expected+"\n"+c.Received+"\n"+c.Note, w.not) {
			t.Errorf("check %s holds %q: %+v", w.name, w.not, c)
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
				// No confirmation names our ACS: the window shown is the
				// first bearer's, so that its time is checked in the same
				// round trip.
				{name: CheckConfirmationTime, ok: true, receivedIs: "NotBefore (none), NotOnOrAfter 2026-01-15T10:05:00Z"},
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

// traceCase is one response and the checks of its trace, with the values
// an admin reads on the error page (and in samlflex account check).
type traceCase struct {
	name     string
	doc      []byte // the response XML
	certs    []string
	edit     func(*Account)
	now      time.Time
	expect   Expect
	mapping  bool // add the attribute checks (CheckMapping)
	wantCode Code
	checks   []wantCheck
}

// runTraceCases runs VerifyTrace on each case and holds the trace to its
// checks; a refusal's trace must also be the one Verify attaches.
func runTraceCases(t *testing.T, tests []traceCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := caseVerifier(t, tc.certs, tc.edit, tc.now, nil)
			_, tr, err := v.VerifyTrace(encode(tc.doc), tc.expect)
			wantCode(t, err, tc.wantCode)
			if err != nil {
				_, verr := v.Verify(encode(tc.doc), tc.expect)
				if got := TraceOf(verr); got == nil || !reflect.DeepEqual(got.Checks, tr.Checks) {
					t.Fatalf("Verify's trace differs from VerifyTrace's:\n got %+v\nwant %+v", got, tr.Checks)
				}
			}
			if tc.mapping {
				tr.CheckMapping(v.acct.Mapping())
			}
			assertChecks(t, tr, tc.checks)
		})
	}
}

// signedVariant is the golden response-signed.xml with each old text
// replaced by the new one that follows it, signed again (Response).
func signedVariant(t *testing.T, edits ...string) []byte {
	t.Helper()
	return goSign(t, replaceEach(t, unsignedTemplate(t, "response-signed.xml"), edits...), "idp-rsa", false, true)
}

// Attributes and elements of the golden response that the cases below
// move (testdata/README.md).
const (
	goldenNameIDStart  = `<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">`
	goldenResponseIRT  = ` InResponseTo="` + testRequestID + `" IssueInstant=`
	goldenSCDataStart  = `<saml:SubjectConfirmationData InResponseTo="` + testRequestID + `" `
	goldenConfirmation = `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">`
	goldenACS          = "https://sso.example.com/v1/Accounts/" + testSID + "/saml2"
)

// bearerFor is one more bearer confirmation for our ACS, answering the
// golden login, valid until notOnOrAfter.
func bearerFor(notOnOrAfter string) string {
	return goldenConfirmation + `<saml:SubjectConfirmationData InResponseTo="` + testRequestID + `" NotOnOrAfter="` + notOnOrAfter +
		`" Recipient="` + goldenACS + `"/></saml:SubjectConfirmation>`
}

// TestTraceIssuerAndNameID: the issuer check quotes the Response's Issuer
// only when it differs from the Assertion's, and the NameID check names
// the NameID's Format only when there is one.
func TestTraceIssuerAndNameID(t *testing.T) {
	t.Parallel()
	runTraceCases(t, []traceCase{
		{name: "one issuer, shown once; NameID with its format", doc: readTestdata(t, "response-signed.xml"), expect: Expect{RequestID: testRequestID},
			checks: []wantCheck{
				{name: CheckIssuer, ok: true, receivedIs: testIssuer},
				{name: CheckNameID, ok: true, receivedIs: "present, format urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"},
			}},
		{name: "Response Issuer differs from the Assertion's", doc: readTestdata(t, "response-issuer-other.xml"), expect: Expect{RequestID: testRequestID},
			wantCode: CodeIssuerMismatch,
			checks: []wantCheck{
				{name: CheckIssuer, code: CodeIssuerMismatch, expected: testIssuer, receivedIs: testIssuer + " (Response Issuer: https://evil.my.salesforce.com)"},
			}},
		{name: "NameID without a Format", doc: signedVariant(t, goldenNameIDStart, `<saml:NameID>`), expect: Expect{RequestID: testRequestID},
			checks: []wantCheck{{name: CheckNameID, ok: true, receivedIs: "present"}}},
	})
}

// TestTraceConfirmationChoice: of several bearer confirmations for our
// ACS, the trace shows the window of the first one valid now, the one
// Verify accepts (else the first one for our ACS).
func TestTraceConfirmationChoice(t *testing.T) {
	t.Parallel()
	runTraceCases(t, []traceCase{
		{name: "two valid: the first is shown", expect: Expect{RequestID: testRequestID},
			doc: signedVariant(t, "</saml:Subject>", bearerFor("2026-01-15T10:30:00.000Z")+"</saml:Subject>"),
			checks: []wantCheck{
				{name: CheckRecipient, ok: true, receivedIs: goldenACS + ", " + goldenACS},
				{name: CheckConfirmationTime, ok: true, receivedIs: "NotBefore (none), NotOnOrAfter 2026-01-15T10:05:00Z"},
			}},
		{name: "an expired one, then a valid one: the valid one is shown", expect: Expect{RequestID: testRequestID},
			doc: signedVariant(t, goldenConfirmation, bearerFor("2026-01-15T09:50:00.000Z")+goldenConfirmation),
			checks: []wantCheck{
				{name: CheckConfirmationTime, ok: true, receivedIs: "NotBefore (none), NotOnOrAfter 2026-01-15T10:05:00Z"},
			}},
		{name: "only expired ones: the first is shown", expect: Expect{RequestID: testRequestID}, wantCode: CodeAssertionExpired,
			now: time.Date(2026, 1, 15, 10, 20, 0, 0, time.UTC),
			doc: signedVariant(t, "</saml:Subject>", bearerFor("2026-01-15T10:10:00.000Z")+"</saml:Subject>",
				`<saml:Conditions NotBefore="2026-01-15T09:59:30.000Z" `+goldenNotOnOrAfter, `<saml:Conditions NotBefore="2026-01-15T09:59:30.000Z"`),
			checks: []wantCheck{
				{name: CheckConfirmationTime, code: CodeAssertionExpired, receivedIs: "NotBefore (none), NotOnOrAfter 2026-01-15T10:05:00Z", note: "15m0s after NotOnOrAfter"},
			}},
	})
}

// TestTraceInResponseTo: what the in_response_to check expects (the
// tracked login, or none, by the idp_initiated setting), which
// InResponseTo it shows when only one element carries it, and the bounce
// note of an unsolicited response.
func TestTraceInResponseTo(t *testing.T) {
	t.Parallel()
	accept := func(a *Account) { a.IdPInitiated = IdPInitiatedAccept }
	refuse := func(a *Account) { a.IdPInitiated = IdPInitiatedRefuse }
	bounceNote := "idp_initiated is bounce"
	runTraceCases(t, []traceCase{
		{name: "tracked login", doc: readTestdata(t, "response-signed.xml"), expect: Expect{RequestID: testRequestID},
			checks: []wantCheck{{name: CheckInResponseTo, ok: true, expected: testRequestID + " (the login this browser started)", receivedIs: testRequestID, not: bounceNote}}},
		{name: "only the Response names the request", doc: signedVariant(t, goldenSCDataStart, `<saml:SubjectConfirmationData `), expect: Expect{RequestID: testRequestID},
			checks: []wantCheck{{name: CheckInResponseTo, ok: true, receivedIs: testRequestID}}},
		{name: "only the confirmation names the request", doc: signedVariant(t, goldenResponseIRT, ` IssueInstant=`), expect: Expect{RequestID: testRequestID},
			checks: []wantCheck{{name: CheckInResponseTo, ok: true, receivedIs: testRequestID}}},
		{name: "unsolicited, bounce (the default)", doc: readTestdata(t, "unsolicited.xml"),
			checks: []wantCheck{{name: CheckInResponseTo, ok: true, expected: "none: no login was started from samlflex (IdP-initiated logins are allowed)",
				receivedIs: "none (IdP-initiated)", note: bounceNote}}},
		{name: "unsolicited, accept", doc: readTestdata(t, "unsolicited.xml"), edit: accept,
			checks: []wantCheck{{name: CheckInResponseTo, ok: true, expected: "IdP-initiated logins are allowed", receivedIs: "none (IdP-initiated)", not: bounceNote}}},
		{name: "unsolicited, refuse", doc: readTestdata(t, "unsolicited.xml"), edit: refuse, wantCode: CodeUnsolicitedNotAllowed,
			checks: []wantCheck{{name: CheckInResponseTo, code: CodeUnsolicitedNotAllowed, expected: "a login started from the samlflex login link (IdP-initiated logins are refused)",
				receivedIs: "none (IdP-initiated)", not: bounceNote}}},
	})
}

// TestTraceAuthnAgeBound: the authn_age check passes up to the last
// instant inside max_authn_age plus the skew and fails at the bound, as
// checkAge does (TestAssertionAge), naming the instant that is too old.
func TestTraceAuthnAgeBound(t *testing.T) {
	t.Parallel()
	// The oldest instant is AuthnInstant 09:59:59: with the default 1h and
	// 3m skew, acceptable until 11:02:59 (exclusive).
	long := longLived(t)
	runTraceCases(t, []traceCase{
		{name: "last instant inside the bound", doc: long, expect: Expect{RequestID: testRequestID}, now: time.Date(2026, 1, 15, 11, 2, 58, 999999999, time.UTC),
			checks: []wantCheck{{name: CheckAuthnAge, ok: true, expected: "1h0m0s (max_authn_age) + 3m0s (skew)", received: "AuthnInstant 2026-01-15T09:59:59Z"}}},
		{name: "first instant outside the bound", doc: long, expect: Expect{RequestID: testRequestID}, now: time.Date(2026, 1, 15, 11, 2, 59, 0, time.UTC),
			wantCode: CodeAssertionTooOld,
			checks:   []wantCheck{{name: CheckAuthnAge, code: CodeAssertionTooOld, note: "AuthnInstant is 1h3m0s before samlflex's time"}}},
	})
}

// TestTraceSignatureNotes: a signature that does not verify says so, with
// what the response presents; so does an Assertion signature that fails
// inside a Response whose signature holds.
func TestTraceSignatureNotes(t *testing.T) {
	t.Parallel()
	tampered := []byte(strings.Replace(string(readTestdata(t, "response-signed.xml")), ">Jane Doe<", ">Jane Dough<", 1))
	innerOtherKey := goSign(t, string(goSign(t, unsignedTemplate(t, "response-signed.xml"), "other-rsa", true, false)), "idp-rsa", false, true)
	runTraceCases(t, []traceCase{
		{name: "no KeyInfo, signed by another key", doc: readTestdata(t, "no-keyinfo.xml"), certs: []string{"other-rsa.crt"},
			expect: Expect{RequestID: testRequestID}, wantCode: CodeSignatureInvalid,
			checks: []wantCheck{{name: CheckSignature, code: CodeSignatureInvalid, receivedIs: "a signature without a certificate (no KeyInfo)",
				note: "the signature does not verify: the response was changed after signing"}}},
		{name: "changed after signing", doc: tampered, expect: Expect{RequestID: testRequestID}, wantCode: CodeSignatureInvalid,
			checks: []wantCheck{{name: CheckSignature, code: CodeSignatureInvalid, received: fingerprintOf(t, "idp-rsa.crt"),
				note: "the signature does not verify: the response was changed after signing"}}},
		{name: "Assertion signed by an unsaved key inside a signed Response", doc: innerOtherKey,
			expect: Expect{RequestID: testRequestID}, wantCode: CodeCertificateUntrusted,
			checks: []wantCheck{{name: CheckSignature, code: CodeCertificateUntrusted, received: fingerprintOf(t, "other-rsa.crt"), note: "presented, not trusted"}}},
	})
}

// TestTraceDefaultRoles: without a roles attribute, the account's default
// roles (when set) are named in the expected value and let the check pass.
func TestTraceDefaultRoles(t *testing.T) {
	t.Parallel()
	noRoles := readTestdata(t, "no-roles.xml")
	runTraceCases(t, []traceCase{
		{name: "no defaults", doc: noRoles, expect: Expect{RequestID: testRequestID}, mapping: true,
			checks: []wantCheck{{name: CheckRoles, code: CodeNoRoles, expected: "attribute roles with Flex roles", received: "no attribute roles", not: "default roles"}}},
		{name: "default roles", doc: noRoles, expect: Expect{RequestID: testRequestID}, mapping: true,
			edit: func(a *Account) { a.DefaultRoles = []string{"agent", "supervisor"} },
			checks: []wantCheck{{name: CheckRoles, ok: true, expected: ", else the default roles agent,supervisor", received: "no attribute roles",
				note: "none received: the account's default roles apply"}}},
	})
}
