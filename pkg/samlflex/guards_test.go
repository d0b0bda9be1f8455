package samlflex

import (
	"strings"
	"testing"
	"time"
)

// TestVerifyGuards reaches each check of Verify with an input that only
// that check refuses: every fixture is correctly signed by the trusted key
// (scripts/gen-testdata, xmlsec1) and differs from response-signed.xml in
// one respect, so deleting the check makes the case accepted (or refused
// with another code) and the test fails. Cases built in the test edit only
// bytes that no signature covers (ds:KeyInfo, or the envelope of an
// assertion-signed response).
func TestVerifyGuards(t *testing.T) {
	t.Parallel()
	allowSHA1 := func(a *Account) { a.AllowSHA1 = true }
	at := func(h, m, s, ms int) time.Time { return time.Date(2026, 1, 15, h, m, s, ms*1e6, time.UTC) }
	otherRequest := "_samlflex_ffffffffffffffffffffffffffffffff"
	tests := []struct {
		name     string
		file     string
		doc      func(t *testing.T) string // instead of file
		edit     func(*Account)
		now      time.Time
		expect   *Expect // nil: the login testRequestID started
		wantCode Code
		check    func(*testing.T, *Assertion)
	}{
		// Conditions: an assertion without AudienceRestriction is for anyone.
		{name: "no AudienceRestriction", file: "no-audience.xml", wantCode: CodeAudienceMismatch},

		// Only a bearer confirmation lets the browser that posts the
		// assertion in; holder-of-key needs a key the browser never shows.
		{name: "holder-of-key confirmation only", file: "holder-of-key.xml", wantCode: CodeMalformedResponse},

		// SubjectConfirmationData is valid 10:00:30 to 10:01:00, Conditions
		// 09:59:30 to 10:05:00; skew 3 min. The narrower window decides.
		{name: "confirmation window: inside both", file: "confirmation-window-narrower.xml",
			check: func(t *testing.T, a *Assertion) {
				// The replay record must outlive the wider window.
				if want := at(10, 20, 0, 0); !a.NotOnOrAfter.Equal(want) {
					t.Fatalf("NotOnOrAfter %s, want %s (Conditions expiry + the largest skew)", a.NotOnOrAfter, want)
				}
			}},
		{name: "confirmation window: expired, Conditions still valid", file: "confirmation-window-narrower.xml",
			now: at(10, 5, 0, 0), wantCode: CodeAssertionExpired},
		{name: "confirmation window: first expired instant", file: "confirmation-window-narrower.xml",
			now: at(10, 4, 0, 0), wantCode: CodeAssertionExpired},
		{name: "confirmation window: last valid instant", file: "confirmation-window-narrower.xml",
			now: at(10, 3, 59, 999)},
		{name: "confirmation window: not yet valid, Conditions already valid", file: "confirmation-window-narrower.xml",
			now: at(9, 57, 0, 0), wantCode: CodeAssertionNotYetValid},
		{name: "confirmation window: first valid instant", file: "confirmation-window-narrower.xml",
			now: at(9, 57, 30, 0)},

		// The Response answers testRequestID, its confirmation another login.
		{name: "InResponseTo: Response and confirmation differ", file: "in-response-to-differs.xml", wantCode: CodeInResponseToMismatch},
		{name: "InResponseTo: browser started the confirmation's login", file: "in-response-to-differs.xml",
			expect: &Expect{RequestID: otherRequest}, wantCode: CodeInResponseToMismatch},

		// SHA-1 is refused in either place, each on its own.
		{name: "rsa-sha256 signature over a SHA-1 digest", file: "rsa-sha256-sha1-digest.xml", wantCode: CodeSHA1NotAllowed},
		{name: "rsa-sha256 over SHA-1, SHA-1 allowed", file: "rsa-sha256-sha1-digest.xml", edit: allowSHA1},
		{name: "rsa-sha1 signature over a SHA-256 digest", file: "rsa-sha1-sha256-digest.xml", wantCode: CodeSHA1NotAllowed},
		{name: "rsa-sha1 over SHA-256, SHA-1 allowed", file: "rsa-sha1-sha256-digest.xml", edit: allowSHA1},

		// NameID: blank after trimming; a comment the IdP's c14n dropped
		// from what it signed (the whole text is read, never half of it);
		// markup inside it (etree's Text() would stop at the child element
		// and read "jane.doe@acme.example").
		{name: "blank NameID", file: "empty-nameid.xml", wantCode: CodeAttributeMissing},
		{name: "comment inside the signed NameID", file: "nameid-comment.xml",
			check: func(t *testing.T, a *Assertion) {
				if a.NameID != "jane.doe@acme.example" {
					t.Fatalf("NameID %q, want the whole text", a.NameID)
				}
			}},
		{name: "element inside the signed NameID", file: "nameid-markup.xml", wantCode: CodeMalformedResponse},

		// Issuer: each of the two Issuer elements is checked on its own.
		{name: "assertion issuer wrong, response issuer right", file: "assertion-issuer-other.xml", wantCode: CodeIssuerMismatch},
		{name: "response issuer wrong, assertion issuer right", file: "response-issuer-other.xml", wantCode: CodeIssuerMismatch},

		{name: "assertion Version 2.1", file: "assertion-version.xml", wantCode: CodeMalformedResponse},

		// The only Assertion, signed, but inside samlp:Extensions of an
		// unsigned Response: exclusive c14n makes its signature independent
		// of where it sits, so only the direct-child check refuses it.
		{name: "assertion not a direct child of the Response", doc: func(t *testing.T) string {
			doc := string(readTestdata(t, "assertion-signed.xml"))
			a := assertionRE.FindString(doc)
			doc = strings.Replace(doc, a, "", 1)
			return strings.Replace(doc, "<samlp:Status>", "<samlp:Extensions>"+a+"</samlp:Extensions><samlp:Status>", 1)
		}, wantCode: CodeMultipleAssertions},
		{name: "control: the same assertion as a direct child after Extensions", doc: func(t *testing.T) string {
			doc := string(readTestdata(t, "assertion-signed.xml"))
			return strings.Replace(doc, "<samlp:Status>", "<samlp:Extensions/><samlp:Status>", 1)
		}},

		// encoding/xml's encoder would write this element's attributes
		// under other prefixes (b:a and a:b swap meaning), which is why
		// the round-trip validator refused it. samlflex never re-encodes:
		// it reads the tree it canonicalized (parse.go), and the element is
		// well-formed, with distinct expanded names, outside what is read.
		{name: "control: attribute prefixes encoding/xml's encoder would rename", doc: keyInfoWith(`<E xmlns:a="urn:a" xmlns:b="urn:b" b:a="1" a:b="1"/>`)},
		// The same expanded name twice under two prefixes is not
		// well-formed (Namespaces in XML 6.3).
		{name: "one attribute under two prefixes bound to one namespace", doc: keyInfoWith(`<E xmlns:a="urn:a" xmlns:b="urn:a" a:x="1" b:x="2"/>`),
			wantCode: CodeMalformedResponse},
		{name: "undeclared attribute prefix", doc: keyInfoWith(`<E u:x="1"/>`), wantCode: CodeMalformedResponse},
		{name: "undeclared element prefix", doc: keyInfoWith(`<u:E/>`), wantCode: CodeMalformedResponse},
		{name: "prefix undeclared (XML 1.1 form)", doc: keyInfoWith(`<E xmlns:a=""/>`), wantCode: CodeMalformedResponse},
		{name: "xml prefix rebound", doc: keyInfoWith(`<E xmlns:xml="urn:x"/>`), wantCode: CodeMalformedResponse},
		{name: "xmlns prefix declared", doc: keyInfoWith(`<E xmlns:xmlns="urn:x"/>`), wantCode: CodeMalformedResponse},
		{name: "reserved namespace under another prefix", doc: keyInfoWith(`<E xmlns:x="http://www.w3.org/XML/1998/namespace"/>`), wantCode: CodeMalformedResponse},
		{name: "xmlns as an element prefix", doc: keyInfoWith(`<xmlns:E/>`), wantCode: CodeMalformedResponse},
		{name: "name with a trailing colon", doc: keyInfoWith(`<E x:="1"/>`), wantCode: CodeMalformedResponse},
		{name: "comment holding --", doc: keyInfoWith(`<!-- a -- b -->`), wantCode: CodeMalformedResponse},
		{name: "control: xml:lang needs no declaration", doc: keyInfoWith(`<E xml:lang="en"/>`)},
		{name: "control: stable attribute prefixes in KeyInfo", doc: keyInfoWith(`<E xmlns:a="urn:a" xmlns:b="urn:b" a:a="1" b:b="1"/>`)},

		// The element cap counts every element, KeyInfo included.
		{name: "one element over the cap", doc: elementsTotal(maxXMLElements + 1), wantCode: elementCapCode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := caseVerifier(t, nil, tc.edit, tc.now, nil)
			exp := Expect{RequestID: testRequestID}
			if tc.expect != nil {
				exp = *tc.expect
			}
			var doc []byte
			if tc.doc != nil {
				doc = []byte(tc.doc(t))
			} else {
				doc = readTestdata(t, tc.file)
			}
			got, err := v.Verify(encode(doc), exp)
			wantCode(t, err, tc.wantCode)
			if err == nil && tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// elementCapCode is the code of the element cap's refusal.
const elementCapCode = CodeResponseTooComplex

// TestVerifyElementCapBoundary: a document of exactly maxXMLElements
// elements passes the cap and is judged by the next check, whatever it is.
func TestVerifyElementCapBoundary(t *testing.T) {
	t.Parallel()
	doc := elementsTotal(maxXMLElements)(t)
	if n := countElements(t, []byte(doc)); n != maxXMLElements {
		t.Fatalf("built %d elements, want %d", n, maxXMLElements)
	}
	_, err := newTestVerifier(t, testAccount(t), testNow).Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
	if CodeOf(err) == elementCapCode {
		t.Fatalf("refused at exactly the cap: %v", err)
	}
	doc = elementsTotal(maxXMLElements + 1)(t)
	if n := countElements(t, []byte(doc)); n != maxXMLElements+1 {
		t.Fatalf("built %d elements, want %d", n, maxXMLElements+1)
	}
}

// keyInfoWith puts extra markup at the start of response-signed.xml's
// ds:KeyInfo, which neither the enveloped Reference nor SignedInfo covers.
func keyInfoWith(markup string) func(t *testing.T) string {
	return func(t *testing.T) string {
		doc := string(readTestdata(t, "response-signed.xml"))
		if !strings.Contains(doc, "<ds:KeyInfo>") {
			t.Fatal("no ds:KeyInfo in response-signed.xml")
		}
		return strings.Replace(doc, "<ds:KeyInfo>", "<ds:KeyInfo>"+markup, 1)
	}
}

// elementsTotal pads response-signed.xml's KeyInfo with empty elements so
// that the document holds exactly n elements.
func elementsTotal(n int) func(t *testing.T) string {
	return func(t *testing.T) string {
		have := countElements(t, readTestdata(t, "response-signed.xml"))
		if n < have {
			t.Fatalf("response-signed.xml already has %d elements", have)
		}
		return keyInfoWith(strings.Repeat("<E/>", n-have))(t)
	}
}
