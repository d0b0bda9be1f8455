package samlflex

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// BenchmarkValidate is this package's full path on the Response-signed
// golden response: base64, size cap, round-trip check, one parse,
// structure and algorithm checks, signature, every SAML check and the
// mapping to a Flex identity.
func BenchmarkValidate(b *testing.B) {
	v := newTestVerifier(b, testAccount(b), testNow)
	in := readTestdata(b, "response-signed.b64")
	m := (&Account{}).Mapping()
	exp := Expect{RequestID: testRequestID}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		a, err := v.Verify(in, exp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Map(a, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareGosaml2 is the baseline: gosaml2's RetrieveAssertionInfo on
// the same input, configured to accept it.
func BenchmarkBareGosaml2(b *testing.B) {
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
	in := string(readTestdata(b, "response-signed.b64"))
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
// inside every bound of limits.go and so reaches the round-trip check, the
// tree and goxmldsig's signature search: namespace declarations on the
// root up to the in-scope bound (the Assertion adds its own) and 830 empty elements in Extensions (a wildcard place), then a
// well-formed unsigned Assertion. It documents the residual cost of the
// bounds (the round-trip validator allocates an encoder and a decoder per
// token; goxmldsig copies the namespace bindings at each element).
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
	in := encode([]byte(doc))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := v.Verify(in, Expect{RequestID: testRequestID}); CodeOf(err) != CodeSignatureMissing {
			b.Fatalf("got %v", err)
		}
	}
}
