package samlflex

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// TestIdPInitiatedMode: the new setting wins; accounts stored with only
// the older allow_idp_initiated keep App Launcher logins working through
// the bounce, never through direct acceptance.
func TestIdPInitiatedMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		json        string
		want        IdPInitiatedMode
		wantAllowed bool
	}{
		{"default", `{}`, IdPInitiatedBounce, true},
		{"old true", `{"allow_idp_initiated":true}`, IdPInitiatedBounce, true},
		{"old false", `{"allow_idp_initiated":false}`, IdPInitiatedRefuse, false},
		{"accept", `{"idp_initiated":"accept"}`, IdPInitiatedAccept, true},
		{"bounce", `{"idp_initiated":"bounce","allow_idp_initiated":true}`, IdPInitiatedBounce, true},
		{"refuse wins over old true", `{"idp_initiated":"refuse","allow_idp_initiated":true}`, IdPInitiatedRefuse, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a Account
			if err := json.Unmarshal([]byte(tc.json), &a); err != nil {
				t.Fatal(err)
			}
			if got := a.IdPInitiatedEffective(); got != tc.want || a.IdPInitiatedAllowed() != tc.wantAllowed {
				t.Fatalf("mode %q allowed %v, want %q %v", got, a.IdPInitiatedAllowed(), tc.want, tc.wantAllowed)
			}
		})
	}
}

func TestIdPInitiatedValidate(t *testing.T) {
	t.Parallel()
	off := false
	tests := []struct {
		name    string
		mode    IdPInitiatedMode
		legacy  *bool
		wantErr string
	}{
		{"unknown value", "sometimes", nil, "must be bounce (the default), accept or refuse"},
		{"contradicts the old setting", IdPInitiatedAccept, &off, "is accept but the older allow_idp_initiated is false"},
		{"refuse with the old false", IdPInitiatedRefuse, &off, ""},
		{"accept", IdPInitiatedAccept, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := testAccount(t)
			a.IdPInitiated, a.AllowIdPInitiated = tc.mode, tc.legacy
			err := a.Validate(testNow)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), "idp_initiated: "+tc.wantErr)):
				t.Fatalf("err %v, want idp_initiated: %s", err, tc.wantErr)
			}
		})
	}
}

// TestRequestBound: RequestBound is false exactly when some verifiable
// copy of the Assertion would not answer the request: an unsolicited
// response, or an Assertion signed on its own whose InResponseTo is only
// on the signed Response. Dropping that Response's signature turns the
// same Assertion ID into a valid unsolicited response, which is why the
// ACS records such an Assertion's use fsynced.
func TestRequestBound(t *testing.T) {
	t.Parallel()
	accept := func(a *Account) { a.IdPInitiated = IdPInitiatedAccept }
	stripped := stripResponseSignature(t, readTestdata(t, "both-signed-irt-response-only.xml"))
	for _, tc := range []struct {
		file        string
		xml         []byte // instead of file
		requestID   string
		unsolicited bool
		bound       bool
	}{
		{file: "response-signed.xml", requestID: testRequestID, bound: true},
		{file: "assertion-signed.xml", requestID: testRequestID, bound: true},
		{file: "both-signed.xml", requestID: testRequestID, bound: true},
		// No copy of this one verifies without the Response (below), but
		// RequestBound does not rely on the Response: a signature over the
		// Assertion may sit anywhere (TestRequestBoundDetachedAssertionSignature).
		{file: "response-signed-irt-response-only.xml", requestID: testRequestID},
		{file: "both-signed-irt-response-only.xml", requestID: testRequestID},
		{file: "both-signed-irt-response-only.xml, Response signature dropped", xml: stripped, unsolicited: true},
		{file: "unsolicited.xml", unsolicited: true},
		{file: "both-signed-two-confirmations.xml", requestID: testRequestID},
		{file: "response-signed-two-confirmations.xml", requestID: testRequestID},
	} {
		xml := tc.xml
		if xml == nil {
			xml = readTestdata(t, tc.file)
		}
		a, err := caseVerifier(t, nil, accept, time.Time{}, nil).Verify(encode(xml), Expect{RequestID: tc.requestID})
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if a.Unsolicited != tc.unsolicited || a.RequestBound != tc.bound {
			t.Errorf("%s: unsolicited %v, request bound %v; want %v, %v", tc.file, a.Unsolicited, a.RequestBound, tc.unsolicited, tc.bound)
		}
	}
	// The stripped copy is the same Assertion: the same one-time-use key.
	a, _ := caseVerifier(t, nil, accept, time.Time{}, nil).Verify(encode(stripped), Expect{})
	b, _ := caseVerifier(t, nil, accept, time.Time{}, nil).Verify(encode(readTestdata(t, "both-signed-irt-response-only.xml")), Expect{RequestID: testRequestID})
	if a == nil || b == nil || a.ReplayKey(testSID) != b.ReplayKey(testSID) {
		t.Fatalf("stripped %+v, original %+v", a, b)
	}
	// Two confirmations, one answering the request: once it has expired,
	// the Assertion verifies as unsolicited (without the Response's
	// signature, whose InResponseTo would still count).
	later := testNow.Add(4 * time.Minute)
	c, err := caseVerifier(t, nil, accept, later, nil).Verify(encode(stripResponseSignature(t, readTestdata(t, "both-signed-two-confirmations.xml"))), Expect{})
	if err != nil || !c.Unsolicited {
		t.Fatalf("two confirmations at %s: %+v, %v", later, c, err)
	}
	// Signed by the Response only, the same post unmodified.
	c, err = caseVerifier(t, nil, accept, later, nil).Verify(encode(readTestdata(t, "response-signed-two-confirmations.xml")), Expect{RequestID: testRequestID})
	if err != nil || !c.Unsolicited {
		t.Fatalf("Response-signed, two confirmations at %s: %+v, %v", later, c, err)
	}
	// An Assertion without any signature of its own does not verify once the
	// Response's is gone: its binding cannot be dropped.
	_, err = caseVerifier(t, nil, accept, time.Time{}, nil).Verify(encode(stripResponseSignature(t, readTestdata(t, "response-signed-irt-response-only.xml"))), Expect{})
	if CodeOf(err) != CodeSignatureMissing {
		t.Fatalf("response-signed-irt-response-only.xml without its signature: %v", err)
	}
}

// stripResponseSignature removes the Response's ds:Signature (the first
// in the document, before the Assertion) and leaves every byte of the
// Assertion as signed.
func stripResponseSignature(t *testing.T, xml []byte) []byte {
	t.Helper()
	s := string(xml)
	start := strings.Index(s, "<ds:Signature")
	end := strings.Index(s, "</ds:Signature>")
	if start < 0 || end < start || strings.Index(s, "<saml:Assertion") < end {
		t.Fatal("no Response signature before the Assertion")
	}
	return []byte(s[:start] + s[end+len("</ds:Signature>"):])
}

// TestEveryConfirmationAnswers: only bearer confirmations with data can be
// picked, so only they must answer the request; any of them that does not
// (no InResponseTo, or another one) makes the Assertion unbound.
func TestEveryConfirmationAnswers(t *testing.T) {
	t.Parallel()
	const (
		bearer = `urn:oasis:names:tc:SAML:2.0:cm:bearer`
		hok    = `urn:oasis:names:tc:SAML:2.0:cm:holder-of-key`
	)
	sc := func(method, data string) string {
		return `<saml:SubjectConfirmation Method="` + method + `">` + data + `</saml:SubjectConfirmation>`
	}
	data := func(irt string) string {
		if irt == "" {
			return `<saml:SubjectConfirmationData Recipient="r"/>`
		}
		return `<saml:SubjectConfirmationData InResponseTo="` + irt + `" Recipient="r"/>`
	}
	for _, tc := range []struct {
		name string
		scs  string
		want bool
	}{
		{"one bearer answering", sc(bearer, data("_req")), true},
		{"two bearers answering", sc(bearer, data("_req")) + sc(bearer, data("_req")), true},
		{"a bearer without InResponseTo", sc(bearer, data("_req")) + sc(bearer, data("")), false},
		{"a bearer answering another request", sc(bearer, data("_req")) + sc(bearer, data("_other")), false},
		{"a bearer without data cannot be picked", sc(bearer, data("_req")) + sc(bearer, ""), true},
		{"a holder-of-key confirmation is never picked", sc(bearer, data("_req")) + sc(hok, data("")), true},
		{"only the first data of a confirmation is read", sc(bearer, data("_req")+data("")), true},
	} {
		doc, err := parseXML([]byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Subject>` + tc.scs + `</saml:Subject></saml:Assertion>`))
		if err != nil {
			t.Fatal(err)
		}
		if got := everyConfirmationAnswers(doc.Root(), "_req"); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRequestBoundNestedAssertionSignature: an Assertion whose own
// signature sits deeper than a direct child (here in Advice) is not
// verified on the Response path, but a copy without the Response's
// signature verifies through it: the Response's InResponseTo must not count
// as binding every copy.
func TestRequestBoundNestedAssertionSignature(t *testing.T) {
	t.Parallel()
	doc := unsignedTemplate(t, "both-signed.xml")
	// InResponseTo on the Response only.
	doc = replaceEach(t, doc, `<saml:SubjectConfirmationData InResponseTo="`+testRequestID+`"`, `<saml:SubjectConfirmationData`,
		`</saml:Conditions>`, `</saml:Conditions><saml:Advice></saml:Advice>`)
	moved := moveAssertionSignature(t, doc, func(_, a, sig *etree.Element) { a.SelectElement("Advice").AddChild(sig) })
	signed := goSign(t, string(moved), "idp-rsa", false, true)
	accept := func(a *Account) { a.IdPInitiated = IdPInitiatedAccept }
	first, err := caseVerifier(t, nil, accept, testNow, nil).Verify(encode(signed), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatal(err)
	}
	copyAlone, err := caseVerifier(t, nil, accept, testNow, nil).Verify(encode(stripResponseSignature(t, signed)), Expect{})
	if err != nil || !copyAlone.Unsolicited {
		t.Fatalf("the copy without the Response: %+v, %v", copyAlone, err)
	}
	if first.Unsolicited || first.RequestBound {
		t.Fatalf("first use: unsolicited %v, request bound %v; want solicited and not bound", first.Unsolicited, first.RequestBound)
	}
}

// TestRequestBoundDetachedAssertionSignature: a signature over the
// Assertion kept outside it (here in the Response's Extensions) is not
// checked on the Response path, but moved into a copy of the Assertion
// without the Response it verifies: the Response's InResponseTo and
// IssueInstant must not count for every copy.
func TestRequestBoundDetachedAssertionSignature(t *testing.T) {
	t.Parallel()
	doc := unsignedTemplate(t, "both-signed.xml")
	doc = strings.ReplaceAll(doc, goldenNotOnOrAfter, `NotOnOrAfter="2036-01-15T10:05:00.000Z"`)
	doc = strings.Replace(doc, goldenResponseIssue, `IssueInstant="2026-01-15T09:00:01.000Z"`, 1)
	// InResponseTo on the Response only.
	doc = replaceEach(t, doc, `<saml:SubjectConfirmationData InResponseTo="`+testRequestID+`"`, `<saml:SubjectConfirmationData`)
	moved := moveAssertionSignature(t, doc, func(root, _, sig *etree.Element) {
		ext := etree.NewElement("samlp:Extensions")
		ext.AddChild(sig)
		root.InsertChildAt(root.SelectElement("Status").Index(), ext)
	})
	signed := goSign(t, string(moved), "idp-rsa", false, true)
	accept := func(a *Account) { a.IdPInitiated = IdPInitiatedAccept }
	first, err := caseVerifier(t, nil, accept, testNow, nil).Verify(encode(signed), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatal(err)
	}
	// The copy: no Response signature, the detached one moved into the
	// Assertion after its Issuer, a fresh envelope instant.
	copyXML := reshape(t, stripResponseSignature(t, signed), func(root *etree.Element) {
		ext := root.SelectElement("Extensions")
		sig := ext.SelectElement("Signature")
		ext.RemoveChild(sig)
		root.RemoveChild(ext)
		a := root.SelectElement("Assertion")
		a.InsertChildAt(a.SelectElement("Issuer").Index()+1, sig)
		root.SelectAttr("IssueInstant").Value = "2026-01-16T10:14:00.000Z"
	})
	copyAlone, err := caseVerifier(t, nil, accept, testNow, nil).Verify(encode(copyXML), Expect{})
	if err != nil || !copyAlone.Unsolicited {
		t.Fatalf("the copy without the Response: %+v, %v", copyAlone, err)
	}
	if first.RequestBound {
		t.Error("first use is request bound, but the same Assertion verifies unsolicited")
	}
	// The record outlives the copy under the widest settings: the oldest
	// instant every copy carries is the AuthnInstant, 09:59:59.
	if want := time.Date(2026, 1, 16, 10, 14, 59, 0, time.UTC); !first.NotOnOrAfter.Equal(want) {
		t.Errorf("record until %s, want %s", first.NotOnOrAfter, want)
	}
}

// TestRequestBoundSignatureInsideConfirmation: the Assertion's signature
// moved into its SubjectConfirmationData (a schema wildcard) still
// verifies it, and changes nothing the bound reads: the copy stays
// solicited, so without the login cookie it is refused.
func TestRequestBoundSignatureInsideConfirmation(t *testing.T) {
	t.Parallel()
	moved := moveAssertionSignature(t, unsignedTemplate(t, "both-signed.xml"), func(_, a, sig *etree.Element) {
		a.FindElement("Subject/SubjectConfirmation/SubjectConfirmationData").AddChild(sig)
	})
	accept := func(a *Account) { a.IdPInitiated = IdPInitiatedAccept }
	got, err := caseVerifier(t, nil, accept, time.Time{}, nil).Verify(encode(moved), Expect{RequestID: testRequestID})
	if err != nil || !got.RequestBound || got.Signed != "assertion" {
		t.Fatalf("with the cookie: %+v, %v", got, err)
	}
	_, err = caseVerifier(t, nil, accept, time.Time{}, nil).Verify(encode(moved), Expect{})
	if CodeOf(err) != CodeUnknownRequest {
		t.Fatalf("without the cookie: %v, want %s", err, CodeUnknownRequest)
	}
}

// moveAssertionSignature signs doc's Assertion alone with the golden IdP
// key, takes that signature out of the Assertion's children and lets place
// put it elsewhere in the tree (the signature still covers the Assertion:
// the enveloped-signature transform leaves it out of its own digest).
func moveAssertionSignature(t *testing.T, doc string, place func(root, assertion, sig *etree.Element)) []byte {
	t.Helper()
	return reshape(t, goSign(t, doc, "idp-rsa", true, false), func(root *etree.Element) {
		a := root.SelectElement("Assertion")
		sig := a.SelectElement("Signature")
		a.RemoveChild(sig)
		place(root, a, sig)
	})
}

// reshape parses xml, lets edit change the tree and writes it back.
func reshape(t *testing.T, xml []byte, edit func(root *etree.Element)) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	edit(d.Root())
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
