package samlflex

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlflex/samlflex/internal/cputime"
)

// benchFixtures are the two shapes a Salesforce org sends: the Response
// signed (its default) and the Assertion signed. Both are RSA-SHA256,
// exclusive c14n, with six attributes.
var benchFixtures = []string{"response-signed", "assertion-signed"}

// BenchmarkValidate is this package's full path: base64, size cap, the one
// bounded parse, structure and algorithm checks, signature, every SAML
// check and the mapping to a Flex identity.
func BenchmarkValidate(b *testing.B) {
	for _, name := range benchFixtures {
		b.Run(name, func(b *testing.B) {
			v := newTestVerifier(b, testAccount(b), testNow)
			in := readTestdata(b, name+".b64")
			m := (&Account{}).Mapping()
			exp := Expect{RequestID: testRequestID}
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			cpu := cputime.Process()
			for b.Loop() {
				a, err := v.Verify(in, exp)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Map(a, m); err != nil {
					b.Fatal(err)
				}
			}
			cputime.Report(b, cputime.Process()-cpu)
		})
	}
}

// BenchmarkBareGosaml2 is the baseline: gosaml2's RetrieveAssertionInfo on
// the same input, configured to accept it.
func BenchmarkBareGosaml2(b *testing.B) {
	for _, name := range benchFixtures {
		b.Run(name, func(b *testing.B) {
			cert, err := ParseCertificate(string(readTestdata(b, "keys/idp-rsa.crt")))
			if err != nil {
				b.Fatal(err)
			}
			urls, _ := URLsFor(testBase, testSID)
			sp := &saml2.SAMLServiceProvider{
				IdentityProviderIssuer:      testIssuer,
				AssertionConsumerServiceURL: urls.ACS,
				AudienceURI:                 urls.EntityID,
				IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}},
				Clock:                       dsig.NewFakeClockAt(testNow),
			}
			in := string(readTestdata(b, name+".b64"))
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				info, err := sp.RetrieveAssertionInfo(in)
				if err != nil {
					b.Fatal(err)
				}
				if info.WarningInfo.InvalidTime || info.WarningInfo.NotInAudience {
					b.Fatal("gosaml2 warns")
				}
			}
		})
	}
}

// BenchmarkFloor is the physical floor of any verification of the same
// input: base64, one etree parse of the document, one SHA-256 over it and
// one RSA-2048 PKCS#1 v1.5 verification (of a signature made at setup over
// that hash). Nothing can check a signed response with less.
func BenchmarkFloor(b *testing.B) {
	for _, name := range benchFixtures {
		b.Run(name, func(b *testing.B) {
			blk, _ := pem.Decode(readTestdata(b, "keys/idp-rsa.key"))
			if blk == nil {
				b.Fatal("idp-rsa.key is not PEM")
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				b.Fatal(err)
			}
			key, ok := k.(*rsa.PrivateKey)
			if !ok || key.N.BitLen() != 2048 {
				b.Fatal("idp-rsa.key is not RSA-2048")
			}
			in := readTestdata(b, name+".b64")
			raw, err := decodeBase64(in)
			if err != nil {
				b.Fatal(err)
			}
			sum := sha256.Sum256(raw)
			sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				raw, err := decodeBase64(in)
				if err != nil {
					b.Fatal(err)
				}
				doc := etree.NewDocument()
				if err := doc.ReadFromBytes(raw); err != nil {
					b.Fatal(err)
				}
				h := sha256.Sum256(raw)
				if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, h[:], sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRefuse measures what a hostile document under the size cap
// costs before it is refused (each shape is described in hostileShapes).
// Run it beside BenchmarkValidate: the target is at most about 3x a valid
// validation in ns/op and B/op.
func BenchmarkRefuse(b *testing.B) {
	v := newTestVerifier(b, testAccount(b), testNow)
	for _, s := range hostileShapes(b) {
		in := encode(s.doc)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := v.Verify(in, Expect{RequestID: testRequestID}); CodeOf(err) != CodeResponseTooComplex {
					b.Fatalf("got %v", err)
				}
			}
		})
	}
}

// BenchmarkUnderLimits is the costliest unsigned document found that stays
// inside every bound of limits.go and so reaches the tree, the structure
// checks and the signature search: namespace declarations on the root up
// to the in-scope bound (the Assertion adds its own) and 830 empty
// elements in Extensions (a wildcard place), then a well-formed unsigned
// Assertion. It documents the residual cost of the bounds.
func BenchmarkUnderLimits(b *testing.B) {
	v := newTestVerifier(b, testAccount(b), testNow)
	var ns strings.Builder
	for i := range maxNSInScope - 4 {
		fmt.Fprintf(&ns, ` xmlns:p%d="urn:p%d"`, i, i)
	}
	tpl := unsignedTemplate(b, "response-signed.xml")
	assertion := tpl[strings.Index(tpl, "<saml:Assertion "):strings.Index(tpl, "</samlp:Response>")]
	doc := hostileHead + ns.String() + `><samlp:Extensions>` + strings.Repeat(`<p1:a/>`, 830) + `</samlp:Extensions>` +
		stStatus + assertion + `</samlp:Response>`
	benchRefusal(b, v, doc, CodeSignatureMissing)
}

// BenchmarkForgedSignedInfo is a forged signature built to be costly
// before the public-key check (found in a red-team review): a 16 KB
// InclusiveNamespaces PrefixList on SignedInfo's c14n method, 830 empty
// elements under DigestMethod and 8 namespace declarations. Canonicalizing
// that SignedInfo looked every listed prefix up at every element: 270 ms
// per request. readSignature now refuses the shape (checkSignedInfoShape,
// the PrefixList bound) before any canonicalization.
func BenchmarkForgedSignedInfo(b *testing.B) {
	v := newTestVerifier(b, testAccount(b), testNow)
	doc := string(readTestdata(b, "response-signed.xml"))
	var ns strings.Builder
	for i := range 8 {
		fmt.Fprintf(&ns, ` xmlns:q%d="urn:q%d"`, i, i)
	}
	list := strings.Repeat("z ", (maxTextBytes-8)/2)
	doc = replaceEach(b, doc,
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>`,
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="`+list+`"/></ds:CanonicalizationMethod>`,
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>`,
		`<ds:DigestMethod`+ns.String()+` Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">`+strings.Repeat("<e/>", 830)+`</ds:DigestMethod>`)
	benchRefusal(b, v, doc, CodeSignatureInvalid)
}

// BenchmarkNamespaceWalk is an unsigned response built to make namespace
// lookups costly (found in a red-team review): 830 empty ds:Signature
// elements under a chain of 28 elements with 32 attributes each, inside
// Advice, within every bound of limits.go. Each element named Signature
// is looked up on every walk for signatures; etree's NamespaceURI read
// every attribute of every ancestor each time: 11 ms per request. With
// namespaceOf a lookup reads only declarations.
func BenchmarkNamespaceWalk(b *testing.B) {
	v := newTestVerifier(b, testAccount(b), testNow)
	doc := templateSignature.ReplaceAllString(string(readTestdata(b, "response-signed.xml")), "")
	var advice strings.Builder
	advice.WriteString(`<saml:Advice>`)
	for range 28 {
		advice.WriteString("<e")
		for i := range maxAttrsPerElement {
			fmt.Fprintf(&advice, " a%d=''", i)
		}
		advice.WriteString(">")
	}
	advice.WriteString(strings.Repeat("<ds:Signature/>", 830) + strings.Repeat("</e>", 28) + `</saml:Advice>`)
	doc = replaceEach(b, doc,
		"<samlp:Response ", `<samlp:Response xmlns:ds="http://www.w3.org/2000/09/xmldsig#" `,
		"<saml:AuthnStatement", advice.String()+"<saml:AuthnStatement")
	benchRefusal(b, v, doc, CodeSignatureMissing)
}

// benchRefusal verifies doc again and again, each time refused with code.
func benchRefusal(b *testing.B, v *Verifier, doc string, code Code) {
	b.Helper()
	in := encode([]byte(doc))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := v.Verify(in, Expect{RequestID: testRequestID}); CodeOf(err) != code {
			b.Fatalf("got %v, want %s", err, code)
		}
	}
}
