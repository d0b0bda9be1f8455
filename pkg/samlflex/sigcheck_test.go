package samlflex

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// TestECDSAInsideSignedResponse: an Assertion signed with ECDSA in the
// XML-DSig r||s encoding (xmlsec1's, Shibboleth's, ADFS's) inside a
// Response that is signed too. Normalising the inner SignatureValue in the
// tree before the Response was checked changed bytes the Response's digest
// covers, so this was refused as signature_invalid.
func TestECDSAInsideSignedResponse(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t, "idp-ec.crt"), testNow)
	raw := readTestdata(t, "both-signed-ecdsa.xml")
	a, err := v.Verify(encode(raw), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatalf("both signed with ECDSA: %v", err)
	}
	if a.Signed != "response+assertion" || a.NameID != "jane.doe@acme.example" || a.SignatureAlgorithm != dsig.ECDSASHA256SignatureMethod {
		t.Fatalf("got %+v", a)
	}
	// The r||s value the Response's digest covers is still checked: a
	// changed inner SignatureValue breaks the outer signature.
	doc := string(raw)
	i := strings.LastIndex(doc, "<ds:SignatureValue>") + len("<ds:SignatureValue>")
	flip := byte('A')
	if doc[i] == 'A' {
		flip = 'B'
	}
	tampered := doc[:i] + string(flip) + doc[i+1:]
	_, err = v.Verify(encode([]byte(tampered)), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeSignatureInvalid)
}

// TestSignatureClassification: each failure of the signature step gets its
// code from typed facts, never from goxmldsig's message text.
func TestSignatureClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		certs []string
		edit  func(string) string
		now   time.Time
		want  Code
	}{
		{name: "KeyInfo names another certificate", file: "response-signed-other-key.xml", want: CodeCertificateUntrusted},
		{name: "KeyInfo names another certificate, the trusted one expired", file: "response-signed-other-key.xml",
			now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), want: CodeCertificateUntrusted},
		{name: "trusted certificate expired", file: "response-signed-expired-cert.xml", certs: []string{"idp-rsa-expired.crt"}, want: CodeCertificateExpired},
		{name: "trusted certificate not valid yet", file: "no-keyinfo.xml",
			now: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), want: CodeCertificateExpired},
		{name: "expired beats untrusted across certificates", file: "response-signed-expired-cert.xml", certs: []string{"idp-rsa.crt", "idp-rsa-expired.crt"}, want: CodeCertificateExpired},
		{name: "no KeyInfo, wrong key", file: "no-keyinfo.xml", certs: []string{"other-rsa.crt"}, want: CodeSignatureInvalid},
		{name: "content changed", file: "response-signed.xml", edit: func(s string) string {
			return strings.Replace(s, "jane.doe@acme.example</saml:NameID>", "mallory@acme.example</saml:NameID>", 1)
		}, want: CodeSignatureInvalid},
		{name: "KeyInfo without a certificate", file: "response-signed.xml", edit: func(s string) string {
			i, j := strings.Index(s, "<ds:X509Certificate>"), strings.Index(s, "</ds:X509Certificate>")
			return s[:i] + "<ds:X509Certificate>" + s[j:]
		}, want: CodeSignatureInvalid},
		{name: "KeyInfo certificate does not parse", file: "response-signed.xml", edit: func(s string) string {
			i := strings.Index(s, "<ds:X509Certificate>") + len("<ds:X509Certificate>")
			return s[:i] + "AAAA" + s[i:]
		}, want: CodeSignatureInvalid},
		{name: "no signature", file: "response-signed.xml", edit: func(s string) string {
			return templateSignature.ReplaceAllString(s, "")
		}, want: CodeSignatureMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := caseVerifier(t, tc.certs, nil, tc.now, nil)
			doc := string(readTestdata(t, tc.file))
			if tc.edit != nil {
				doc = tc.edit(doc)
			}
			_, err := v.Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
			wantCode(t, err, tc.want)
		})
	}
}

// TestReferencingSignature: the signature samlflex reads facts from is the
// one goxmldsig checks: the first, depth first, whose Reference names the
// element (or is empty), skipping ones that name something else.
func TestReferencingSignature(t *testing.T) {
	t.Parallel()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(readTestdata(t, "both-signed.xml")); err != nil {
		t.Fatal(err)
	}
	root := d.Root()
	sig := referencingSignature(root)
	if sig == nil || sig.Parent() != root {
		t.Fatal("did not find the Response's own signature")
	}
	root.RemoveChild(sig)
	if s := referencingSignature(root); s != nil {
		t.Fatalf("picked the Assertion's signature for the Response: %v", s.Parent().Tag)
	}
	a := root.SelectElement("Assertion")
	if s := referencingSignature(a); s == nil || s.Parent() != a {
		t.Fatal("did not find the Assertion's signature")
	}
}
