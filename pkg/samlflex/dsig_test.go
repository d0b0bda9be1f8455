package samlflex

import (
	"strings"
	"testing"
)

// TestSignatureShapes: every refusal of dsig.go and sigcheck.go, each on
// response-signed.xml with one change, with the code and the detail that
// names it; and the shapes that must still verify.
func TestSignatureShapes(t *testing.T) {
	t.Parallel()
	const (
		sigEnd   = `</ds:KeyInfo></ds:Signature>`
		excC14N  = `<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">`
		incC14N  = `http://www.w3.org/TR/2001/REC-xml-c14n-20010315`
		envelope = `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>`
	)
	between := func(s, from, to string) string {
		i := strings.Index(s, from)
		j := strings.Index(s[i:], to)
		if i < 0 || j < 0 {
			t.Fatalf("%q...%q not in the fixture", from, to)
		}
		return s[i : i+j+len(to)]
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("%q not in the fixture", old)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	tests := []struct {
		name   string
		file   string // default response-signed.xml
		certs  []string
		edit   func(string) string
		code   Code
		detail string
	}{
		// The shape of ds:Signature and of SignedInfo.
		{name: "two KeyInfo", edit: replace(sigEnd, `</ds:KeyInfo><ds:KeyInfo/></ds:Signature>`),
			code: CodeSignatureInvalid, detail: "unexpected KeyInfo"},
		{name: "KeyInfo after an Object", edit: replace(`<ds:KeyInfo>`, `<ds:Object/><ds:KeyInfo>`),
			code: CodeSignatureInvalid, detail: "unexpected KeyInfo"},
		{name: "a foreign element in ds:Signature", edit: replace(sigEnd, `</ds:KeyInfo><x:E xmlns:x="urn:x"/></ds:Signature>`),
			code: CodeSignatureInvalid, detail: "not an XML-DSig element"},
		{name: "KeyInfo without a SignatureValue", edit: func(s string) string {
			return strings.Replace(s, between(s, "<ds:SignatureValue>", "</ds:SignatureValue>"), "", 1)
		}, code: CodeSignatureInvalid, detail: "unexpected KeyInfo"},
		{name: "SignedInfo alone", edit: func(s string) string {
			s = strings.Replace(s, between(s, "<ds:SignatureValue>", "</ds:SignatureValue>"), "", 1)
			return strings.Replace(s, between(s, "<ds:KeyInfo>", "</ds:KeyInfo>"), "", 1)
		}, code: CodeSignatureInvalid, detail: "needs a SignedInfo and a SignatureValue"},
		{name: "SignatureValue before SignedInfo", edit: func(s string) string {
			sv := between(s, "<ds:SignatureValue>", "</ds:SignatureValue>")
			s = strings.Replace(s, sv, "", 1)
			return strings.Replace(s, "<ds:SignedInfo>", sv+"<ds:SignedInfo>", 1)
		}, code: CodeSignatureInvalid, detail: "unexpected SignatureValue"},
		{name: "two References", edit: func(s string) string {
			ref := between(s, "<ds:Reference ", "</ds:Reference>")
			return strings.Replace(s, ref, ref+ref, 1)
		}, code: CodeSignatureInvalid, detail: "Reference at position 4"},
		{name: "SignatureMethod before CanonicalizationMethod", edit: func(s string) string {
			cm := between(s, "<ds:CanonicalizationMethod ", "/>")
			s = strings.Replace(s, cm, "", 1)
			return strings.Replace(s, "</ds:SignedInfo>", cm+"</ds:SignedInfo>", 1)
		}, code: CodeSignatureInvalid, detail: "position"},
		{name: "no DigestValue", edit: func(s string) string {
			return strings.Replace(s, between(s, "<ds:DigestValue>", "</ds:DigestValue>"), "", 1)
		}, code: CodeSignatureInvalid, detail: "one DigestMethod and one DigestValue"},
		{name: "DigestValue not base64", edit: func(s string) string {
			return strings.Replace(s, between(s, "<ds:DigestValue>", "</ds:DigestValue>"), "<ds:DigestValue>!!</ds:DigestValue>", 1)
		}, code: CodeSignatureInvalid, detail: "DigestValue"},
		{name: "SignatureValue not base64", edit: func(s string) string {
			return strings.Replace(s, between(s, "<ds:SignatureValue>", "</ds:SignatureValue>"), "<ds:SignatureValue>!!</ds:SignatureValue>", 1)
		}, code: CodeSignatureInvalid, detail: "SignatureValue"},
		{name: "Reference URI without #", edit: replace(`URI="#_resp0001"`, `URI="x_resp0001"`), code: CodeSignatureMissing},

		// Nothing else under SignedInfo: it is canonicalized before the
		// public-key check (BenchmarkForgedSignedInfo).
		{name: "elements inside DigestMethod", edit: replace(`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>`,
			`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">`+strings.Repeat("<e/>", 3)+`</ds:DigestMethod>`),
			code: CodeSignatureInvalid, detail: "an element inside DigestMethod"},
		{name: "an element inside DigestValue", edit: replace(`<ds:DigestValue>`, `<ds:DigestValue><e/>`),
			code: CodeSignatureInvalid, detail: "an element inside DigestValue"},
		{name: "an element inside SignatureMethod", edit: replace(`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>`,
			`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"><ds:HMACOutputLength>128</ds:HMACOutputLength></ds:SignatureMethod>`),
			code: CodeSignatureInvalid, detail: "inside SignatureMethod"},
		{name: "an element inside the enveloped-signature transform", edit: replace(envelope,
			`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"><e/></ds:Transform>`),
			code: CodeSignatureInvalid, detail: "inside a Transform"},
		{name: "a foreign element in Transforms", edit: replace(envelope, envelope+`<e/>`),
			code: CodeSignatureInvalid, detail: "in Transforms"},
		{name: "two DigestMethods", edit: replace(`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>`,
			`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>`),
			code: CodeSignatureInvalid, detail: "in Reference"},
		{name: "Transforms after DigestMethod", edit: func(s string) string {
			ts := between(s, "<ds:Transforms>", "</ds:Transforms>")
			s = strings.Replace(s, ts, "", 1)
			return strings.Replace(s, "<ds:DigestValue>", ts+"<ds:DigestValue>", 1)
		}, code: CodeSignatureInvalid, detail: "in Reference"},
		{name: "a second InclusiveNamespaces in the c14n transform", edit: replace(`PrefixList="ds saml samlp xs xsi"/>`,
			`PrefixList="ds saml samlp xs xsi"/><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="ds"/>`),
			code: CodeSignatureInvalid, detail: "more than one empty InclusiveNamespaces"},
		{name: "an element inside InclusiveNamespaces", edit: replace(`PrefixList="ds saml samlp xs xsi"/>`, `PrefixList="ds saml samlp xs xsi"><e/></ec:InclusiveNamespaces>`),
			code: CodeSignatureInvalid, detail: "more than one empty InclusiveNamespaces"},
		{name: "a PrefixList longer than the bindings that can be in scope", edit: replace(`PrefixList="ds saml samlp xs xsi"`,
			`PrefixList="ds saml samlp xs xsi`+strings.Repeat(" z", maxNSInScope)+`"`),
			code: CodeSignatureInvalid, detail: "InclusiveNamespaces lists 17 prefixes"},
		{name: "SignedInfo's PrefixList too long", edit: replace(`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>`,
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="`+strings.Repeat("z ", maxNSInScope+1)+`"/></ds:CanonicalizationMethod>`),
			code: CodeSignatureInvalid, detail: "InclusiveNamespaces lists 13 prefixes"},
		{name: "SignedInfo's c14n method holding another element", edit: replace(`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>`,
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><e/></ds:CanonicalizationMethod>`),
			code: CodeSignatureInvalid, detail: "more than one empty InclusiveNamespaces"},

		// Canonicalization and transforms outside the SAML profile.
		{name: "inclusive c14n for SignedInfo", edit: replace(`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`,
			`<ds:CanonicalizationMethod Algorithm="`+incC14N+`"`), code: CodeUnsupportedAlgorithm, detail: "canonicalization method"},
		{name: "inclusive c14n transform", edit: func(s string) string {
			return strings.Replace(s, between(s, excC14N, "</ds:Transform>"), `<ds:Transform Algorithm="`+incC14N+`"/>`, 1)
		}, code: CodeUnsupportedAlgorithm, detail: "reference transforms"},
		{name: "enveloped-signature alone (inclusive c14n implied)", edit: func(s string) string {
			return strings.Replace(s, between(s, excC14N, "</ds:Transform>"), "", 1)
		}, code: CodeUnsupportedAlgorithm, detail: "reference transforms"},
		{name: "transforms in the other order", edit: func(s string) string {
			exc := between(s, excC14N, "</ds:Transform>")
			s = strings.Replace(s, exc, "", 1)
			return strings.Replace(s, envelope, exc+envelope, 1)
		}, code: CodeUnsupportedAlgorithm, detail: "reference transforms"},
		{name: "an XPath transform added", edit: replace(envelope, envelope+`<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>`),
			code: CodeUnsupportedAlgorithm, detail: "reference transforms"},

		// The key and the method must fit.
		{name: "RSA method, ECDSA certificate", file: "no-keyinfo.xml", certs: []string{"idp-ec.crt"},
			code: CodeSignatureInvalid, detail: "does not fit"},

		// Shapes that still verify.
		{name: "control: an Object after KeyInfo", edit: replace(sigEnd, `</ds:KeyInfo><ds:Object/></ds:Signature>`)},
		{name: "control: a comment in SignedInfo, exclusive c14n without comments", edit: replace(`<ds:SignedInfo>`, `<ds:SignedInfo><!-- note -->`)},
		{name: "a comment in SignedInfo, c14n with comments", file: "response-signed-with-comments-c14n.xml",
			edit: replace(`<ds:SignedInfo>`, `<ds:SignedInfo><!-- note -->`), code: CodeSignatureInvalid, detail: "RSA signature value"},
		{name: "control: comments and whitespace outside the root", edit: func(s string) string {
			return strings.Replace(s, "?>", "?>\n<!-- before -->\n", 1) + "\n<!-- after -->\n"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := tc.file
			if file == "" {
				file = "response-signed.xml"
			}
			doc := string(readTestdata(t, file))
			if tc.edit != nil {
				doc = tc.edit(doc)
			}
			v := caseVerifier(t, tc.certs, nil, testNow, nil)
			_, err := v.Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
			wantCode(t, err, tc.code)
			if tc.detail != "" && !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("detail %q, want it to name %q", err.Error(), tc.detail)
			}
		})
	}
}

// TestAssertionSignatureReferencingElsewhere: inside a Response the IdP
// signed, an Assertion with a ds:Signature that names another ID is a
// broken signature: signature_invalid with a trace that says so, never an
// untyped error (which answered "internal" before).
func TestAssertionSignatureReferencingElsewhere(t *testing.T) {
	t.Parallel()
	doc := string(goSign(t, unsignedTemplate(t, "response-signed.xml"), "idp-rsa", true, false))
	doc = strings.Replace(doc, `URI="#_asrt0001"`, `URI="#_other"`, 1)
	signed := goSign(t, doc, "idp-rsa", false, true)
	v := newTestVerifier(t, testAccount(t), testNow)
	_, tr, err := v.VerifyTrace(encode(signed), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeSignatureInvalid)
	if !strings.Contains(err.Error(), "does not name the Assertion") {
		t.Fatalf("detail %q", err.Error())
	}
	c, ok := tr.Check(CheckSignature)
	if !ok || c.OK || c.Code != CodeSignatureInvalid || c.Received != "a ds:Signature that does not reference the element it is in" {
		t.Fatalf("signature check %+v", c)
	}
	_, err = v.Verify(encode(signed), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeSignatureInvalid)
}

// TestConfirmationRefusalMatchesTrace: a bearer confirmation for another
// SP, then an expired one for this ACS. The refusal is the expired window
// (what the trace shows: the Recipient is fine), not recipient_mismatch,
// which sent the admin to the ACS URL setting.
func TestConfirmationRefusalMatchesTrace(t *testing.T) {
	t.Parallel()
	urls, _ := URLsFor(testBase, testSID)
	elsewhere := `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="` + testRequestID +
		`" NotOnOrAfter="2026-01-15T10:05:00.000Z" Recipient="https://elsewhere.example/acs"/></saml:SubjectConfirmation>`
	doc := unsignedTemplate(t, "response-signed.xml")
	doc = strings.Replace(doc, `<saml:SubjectConfirmation `, elsewhere+`<saml:SubjectConfirmation `, 1)
	ours := `NotOnOrAfter="2026-01-15T10:05:00.000Z" Recipient="` + urls.ACS
	if !strings.Contains(doc, ours) {
		t.Fatal("template changed")
	}
	doc = strings.Replace(doc, ours, `NotOnOrAfter="2026-01-15T09:50:00.000Z" Recipient="`+urls.ACS, 1)
	signed := goSign(t, doc, "idp-rsa", false, true)
	v := newTestVerifier(t, testAccount(t), testNow)
	_, err := v.Verify(encode(signed), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeAssertionExpired)
	wantTraceAgrees(t, err)
}

// TestMethodAndDigestNotInterchangeable: a digest URI is no signature
// method and a signature method no digest, even past checkAlgorithms (which
// refuses both first): verifySignature's own tables keep them apart.
func TestMethodAndDigestNotInterchangeable(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t), testNow)
	for _, swap := range [][2]string{
		{`Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"`, `Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"`},
		{`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"`, `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"`},
	} {
		doc, err := parseXML([]byte(strings.Replace(string(readTestdata(t, "response-signed.xml")), swap[0], swap[1], 1)))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := v.verifySignature(doc.Root(), testNow); CodeOf(err) != CodeUnsupportedAlgorithm {
			t.Errorf("%s as %s: %v, want unsupported_algorithm", swap[0], swap[1], err)
		}
	}
}

// TestPrefixListBound: an InclusiveNamespaces PrefixList may name exactly
// maxNSInScope prefixes (as many as can be in scope), not one more.
func TestPrefixListBound(t *testing.T) {
	t.Parallel()
	for _, n := range []int{maxNSInScope, maxNSInScope + 1} {
		doc := `<m xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces PrefixList="` +
			strings.Repeat("p #default ", n/2) + strings.Repeat("q", n%2) + `"/></m>`
		parsed, err := parseXML([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		list, err := prefixList(parsed.Root())
		switch {
		case n <= maxNSInScope && (err != nil || len(list) != n || list[1] != ""):
			t.Errorf("%d prefixes: %q, %v", n, list, err)
		case n > maxNSInScope && (err == nil || CodeOf(err) != CodeSignatureInvalid):
			t.Errorf("%d prefixes accepted: %q, %v", n, list, err)
		}
	}
}
