package samlflex

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Instants of the golden responses (testdata/README.md).
const (
	goldenResponseIssue  = `IssueInstant="2026-01-15T10:00:00.000Z"`
	goldenAssertionIssue = `IssueInstant="2026-01-15T10:00:00.001Z"`
	goldenAuthn          = `AuthnInstant="2026-01-15T09:59:59.000Z"`
	goldenNotOnOrAfter   = `NotOnOrAfter="2026-01-15T10:05:00.000Z"`
)

// longLived is the golden response, signed, with Conditions and the
// confirmation valid for ten years, each instant optionally replaced.
func longLived(t *testing.T, edits ...string) []byte {
	t.Helper()
	doc := strings.ReplaceAll(unsignedTemplate(t, "response-signed.xml"), goldenNotOnOrAfter, `NotOnOrAfter="2036-01-15T10:05:00.000Z"`)
	for i := 0; i < len(edits); i += 2 {
		doc = strings.Replace(doc, edits[i], edits[i+1], 1)
	}
	return goSign(t, doc, "idp-rsa", false, true)
}

// TestAssertionAge: an IdP-signed assertion issued long ago is refused even
// when its conditions run for years; both sides of the bound are tested, for
// each instant on its own.
func TestAssertionAge(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The oldest instant is AuthnInstant 09:59:59: with the default 1h
	// and 3m skew, accepted until 11:02:59 (exclusive).
	long := longLived(t)
	old := `"2026-01-15T08:00:00.000Z"`
	tests := []struct {
		name string
		doc  []byte
		now  time.Time
		edit func(*Account)
		want Code
	}{
		{name: "a year later (still inside the certificate and the conditions)", doc: long, now: at("2027-01-15T10:00:00Z"), want: CodeAssertionTooOld},
		{name: "last instant inside the bound", doc: long, now: at("2026-01-15T11:02:58.999999999Z")},
		{name: "first instant outside the bound", doc: long, now: at("2026-01-15T11:02:59Z"), want: CodeAssertionTooOld},
		{name: "raised setting", doc: long, now: at("2026-01-15T11:30:00Z"), edit: func(a *Account) { a.MaxAuthnAge = Duration(2 * time.Hour) }},
		{name: "lowered setting", doc: long, now: at("2026-01-15T10:05:00Z"), edit: func(a *Account) { a.MaxAuthnAge = Duration(time.Minute) }, want: CodeAssertionTooOld},
		{name: "old AuthnInstant alone", doc: longLived(t, goldenAuthn, `AuthnInstant=`+old), want: CodeAssertionTooOld},
		{name: "old Response IssueInstant alone", doc: longLived(t, goldenResponseIssue, `IssueInstant=`+old), want: CodeAssertionTooOld},
		{name: "old Assertion IssueInstant alone", doc: longLived(t, goldenAssertionIssue, `IssueInstant=`+old), want: CodeAssertionTooOld},
		{name: "old unsigned envelope", doc: []byte(strings.Replace(string(readTestdata(t, "assertion-signed.xml")), goldenResponseIssue, `IssueInstant=`+old, 1)), want: CodeAssertionTooOld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := caseVerifier(t, nil, tc.edit, tc.now, nil).Verify(encode(tc.doc), Expect{RequestID: testRequestID})
			wantCode(t, err, tc.want)
			if tc.want == CodeAssertionTooOld && !strings.Contains(PublicOf(err), "max_authn_age") {
				t.Fatalf("public message %q does not name the setting", PublicOf(err))
			}
		})
	}
}

// TestReplayLifetime: Assertion.NotOnOrAfter, the replay record's
// lifetime, is the last instant at which the assertion could still be
// accepted under any settings the account may be given (skew up to
// MaxClockSkew, max_authn_age up to MaxMaxAuthnAge: an admin raising them
// later must not reopen a used assertion): the latest of Conditions and
// every bearer confirmation, plus MaxClockSkew, capped by the age bound,
// which only the Assertion's own instants set.
func TestReplayLifetime(t *testing.T) {
	t.Parallel()
	second := `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_samlflex_0123456789abcdef0123456789abcdef" NotOnOrAfter="2026-01-15T10:30:00.000Z" Recipient="https://sso.example.com/v1/Accounts/AC0123456789abcdef0123456789abcdef/saml2"/></saml:SubjectConfirmation></saml:Subject>`
	twoConfirmations := strings.Replace(unsignedTemplate(t, "response-signed.xml"), "</saml:Subject>", second, 1)
	// Conditions without NotOnOrAfter (optional in the schema): only the
	// confirmations bound the assertion's life.
	twoConfirmations = strings.Replace(twoConfirmations, `<saml:Conditions NotBefore="2026-01-15T09:59:30.000Z" `+goldenNotOnOrAfter, `<saml:Conditions NotBefore="2026-01-15T09:59:30.000Z"`, 1)
	envelope := strings.Replace(string(readTestdata(t, "assertion-signed.xml")), goldenResponseIssue, `IssueInstant="2026-01-15T09:00:01.000Z"`, 1)
	// Ten-year conditions and a Response issued before its Assertion: only
	// the Assertion's own instants, which every copy carries, cap the
	// record.
	oldResponse := func(file string, signAssertion bool) []byte {
		doc := strings.ReplaceAll(unsignedTemplate(t, file), goldenNotOnOrAfter, `NotOnOrAfter="2036-01-15T10:05:00.000Z"`)
		doc = strings.Replace(doc, goldenResponseIssue, `IssueInstant="2026-01-15T09:00:01.000Z"`, 1)
		return goSign(t, doc, "idp-rsa", signAssertion, true)
	}
	tests := []struct {
		name string
		doc  []byte
		now  time.Time
		want time.Time
	}{
		{"golden: expiry plus the largest skew", readTestdata(t, "response-signed.xml"), testNow, time.Date(2026, 1, 15, 10, 20, 0, 0, time.UTC)},
		// The first confirmation (10:05) is the one accepted at 10:00, but
		// the second stays acceptable until 10:30 + skew.
		{"later second confirmation", goSign(t, twoConfirmations, "idp-rsa", false, true), testNow, time.Date(2026, 1, 15, 10, 45, 0, 0, time.UTC)},
		// The oldest signed instant is the AuthnInstant, 09:59:59.
		{"ten-year conditions capped by the largest age bound", longLived(t), testNow, time.Date(2026, 1, 16, 10, 14, 59, 0, time.UTC)},
		// An unsigned envelope's instant is checked but cannot shorten the
		// record: replayed later in a fresh envelope, the assertion would
		// pass again.
		{"unsigned envelope does not shorten the record", []byte(envelope), testNow, time.Date(2026, 1, 15, 10, 20, 0, 0, time.UTC)},
		{"an older signed Response does not shorten it", oldResponse("response-signed.xml", false), testNow, time.Date(2026, 1, 16, 10, 14, 59, 0, time.UTC)},
		{"nor does one the signed Assertion can do without", oldResponse("both-signed.xml", true), testNow, time.Date(2026, 1, 16, 10, 14, 59, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := newTestVerifier(t, testAccount(t), tc.now).Verify(encode(tc.doc), Expect{RequestID: testRequestID})
			if err != nil {
				t.Fatal(err)
			}
			if !a.NotOnOrAfter.Equal(tc.want) {
				t.Fatalf("NotOnOrAfter %s, want %s", a.NotOnOrAfter, tc.want)
			}
		})
	}
	// With the largest settings an admin can choose, accepted just before
	// the record expires (through the second confirmation), refused at it:
	// the record is not kept longer than that.
	widest := testAccount(t)
	widest.ClockSkew, widest.MaxAuthnAge = Duration(MaxClockSkew), Duration(MaxMaxAuthnAge)
	doc := goSign(t, twoConfirmations, "idp-rsa", false, true)
	_, err := newTestVerifier(t, widest, time.Date(2026, 1, 15, 10, 44, 59, 999e6, time.UTC)).Verify(encode(doc), Expect{RequestID: testRequestID})
	wantCode(t, err, "")
	_, err = newTestVerifier(t, widest, time.Date(2026, 1, 15, 10, 45, 0, 0, time.UTC)).Verify(encode(doc), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeAssertionExpired)
	// And the copy of the both-signed Assertion without its Response, in a
	// fresh envelope, is refused once the record has expired.
	stripped := string(stripResponseSignature(t, oldResponse("both-signed.xml", true)))
	stripped = strings.Replace(stripped, `IssueInstant="2026-01-15T09:00:01.000Z"`, `IssueInstant="2026-01-16T10:14:00.000Z"`, 1)
	_, err = newTestVerifier(t, widest, time.Date(2026, 1, 16, 10, 14, 59, 0, time.UTC)).Verify(encode([]byte(stripped)), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeAssertionTooOld)
}

func TestMaxAuthnAgeValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v  time.Duration
		ok bool
	}{{0, true}, {time.Minute, true}, {24 * time.Hour, true}, {time.Minute - 1, false}, {24*time.Hour + 1, false}, {-time.Hour, false}}
	for _, tc := range tests {
		a := testAccount(t)
		a.MaxAuthnAge = Duration(tc.v)
		err := a.Validate(testNow)
		var ve *ValidationError
		bad := errors.As(err, &ve) && strings.Contains(err.Error(), "max_authn_age")
		if bad == tc.ok {
			t.Errorf("max_authn_age %s: %v", tc.v, err)
		}
	}
	if (&Account{}).AuthnAge() != DefaultMaxAuthnAge {
		t.Fatal("default")
	}
}

// TestDetailTruncation: IdP-controlled free text in an error detail is
// cut to about 256 bytes, on a UTF-8 boundary, and marked.
func TestDetailTruncation(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("é", 200) // 400 bytes
	got := truncateDetail(s)
	if !utf8.ValidString(got) || len(got) > maxDetailText+32 || !strings.HasSuffix(got, "…(400 bytes)") {
		t.Fatalf("%q", got)
	}
	if truncateDetail("short") != "short" {
		t.Fatal("short text changed")
	}
	if e := Errorf(CodeIssuerMismatch, "issuer %q and %q", strings.Repeat("x", 100000), []string{strings.Repeat("y", 100000)}); len(e.Error()) > 1024 {
		t.Fatalf("Errorf detail is %d bytes", len(e.Error()))
	}

	// A StatusMessage at the text limit reaches the status check: its
	// detail is short. One of 180 KB is refused before (response_too_complex),
	// with a short detail too.
	denied := string(readTestdata(t, "status-denied.xml"))
	v := newTestVerifier(t, testAccount(t), testNow)
	for _, n := range []int{maxTextBytes, 180 << 10} {
		doc := strings.Replace(denied, "User does not have access to this service provider", strings.Repeat("A", n), 1)
		_, err := v.Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
		if err == nil || len(err.Error()) > 1024 {
			t.Fatalf("StatusMessage of %d bytes: detail of %d bytes", n, len(err.Error()))
		}
	}
	_, err := v.Verify(encode([]byte(strings.Replace(denied, "User does not have access to this service provider", strings.Repeat("A", maxTextBytes), 1))), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeStatusNotSuccess)

	// A dateTime attribute that is not one is quoted cut, not whole.
	bad := strings.Replace(string(readTestdata(t, "assertion-signed.xml")), goldenResponseIssue, `IssueInstant="`+strings.Repeat("9", 10000)+`"`, 1)
	_, err = v.Verify(encode([]byte(bad)), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeMalformedResponse)
	if len(err.Error()) > 1024 {
		t.Fatalf("dateTime detail of %d bytes", len(err.Error()))
	}
}
