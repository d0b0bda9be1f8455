package samlflex

import (
	"regexp"
	"strings"
	"testing"
)

// assertionRE cuts the Assertion element out of a golden response.
var assertionRE = regexp.MustCompile(`(?s)<saml:Assertion .*</saml:Assertion>`)

// evilAssertion is the golden assertion with another NameID and admin role,
// its own signature dropped: what an attacker without the key can make.
func evilAssertion(t *testing.T, doc string) string {
	t.Helper()
	a := assertionRE.FindString(doc)
	if a == "" {
		t.Fatal("no assertion in fixture")
	}
	a = regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`).ReplaceAllString(a, "")
	a = strings.ReplaceAll(a, "jane.doe@acme.example", "mallory@evil.example")
	a = strings.ReplaceAll(a, "agent, supervisor", "agent, supervisor, admin")
	return a
}

// TestVerifyRejectsAttacks mutates golden responses after signing. Each
// case must be refused with one of the named codes; the point is that the
// login never succeeds, and the code tells which check caught it.
func TestVerifyRejectsAttacks(t *testing.T) {
	t.Parallel()
	respSigned := string(readTestdata(t, "response-signed.xml"))
	assertSigned := string(readTestdata(t, "assertion-signed.xml"))
	const protoOpen = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`

	tests := []struct {
		name string
		doc  func(t *testing.T) string
		want []Code
	}{
		{"tampered attribute after signing", func(t *testing.T) string {
			return strings.Replace(respSigned, "agent, supervisor", "agent, supervisor, admin", 1)
		}, []Code{CodeSignatureInvalid}},
		{"tampered NameID after signing", func(t *testing.T) string {
			return strings.Replace(respSigned, ">jane.doe@acme.example</saml:NameID>", ">mallory@evil.example</saml:NameID>", 1)
		}, []Code{CodeSignatureInvalid}},
		{"tampered assertion of an assertion-signed response", func(t *testing.T) string {
			return strings.Replace(assertSigned, "agent, supervisor", "admin", 1)
		}, []Code{CodeSignatureInvalid}},
		{"signature stripped", func(t *testing.T) string {
			return regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`).ReplaceAllString(respSigned, "")
		}, []Code{CodeSignatureMissing}},
		{"signature stripped and assertion changed", func(t *testing.T) string {
			d := regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`).ReplaceAllString(respSigned, "")
			return strings.Replace(d, "agent, supervisor", "admin", 1)
		}, []Code{CodeSignatureMissing}},
		{"XSW: signed response moved into Extensions of an evil one", func(t *testing.T) string {
			inner := strings.TrimPrefix(respSigned, `<?xml version="1.0" encoding="UTF-8"?>`)
			return protoOpen + ` ID="_evil" Version="2.0" IssueInstant="2026-01-15T10:00:00Z" Destination="https://sso.example.com/v1/Accounts/AC0123456789abcdef0123456789abcdef/saml2">` +
				`<samlp:Extensions>` + inner + `</samlp:Extensions>` +
				`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
				evilAssertion(t, respSigned) + `</samlp:Response>`
		}, []Code{CodeMultipleAssertions}},
		{"XSW: evil assertion beside the signed one", func(t *testing.T) string {
			return strings.Replace(assertSigned, "<saml:Assertion ", evilAssertion(t, assertSigned)+"<saml:Assertion ", 1)
		}, []Code{CodeMultipleAssertions}},
		{"XSW: signed assertion hidden in the evil assertion's Advice", func(t *testing.T) string {
			orig := assertionRE.FindString(assertSigned)
			evil := evilAssertion(t, assertSigned)
			evil = strings.Replace(evil, "<saml:Subject>", "<saml:Advice>"+orig+"</saml:Advice><saml:Subject>", 1)
			return strings.Replace(assertSigned, orig, evil, 1)
		}, []Code{CodeMultipleAssertions}},
		{"XSW: evil assertion given the signed one's ID, signed one in ds:Object", func(t *testing.T) string {
			orig := assertionRE.FindString(assertSigned)
			evil := evilAssertion(t, assertSigned)
			sig := regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`).FindString(orig)
			wrapped := strings.Replace(sig, "</ds:Signature>", "<ds:Object>"+orig+"</ds:Object></ds:Signature>", 1)
			evil = strings.Replace(evil, "</saml:Issuer>", "</saml:Issuer>"+wrapped, 1)
			return strings.Replace(assertSigned, orig, evil, 1)
		}, []Code{CodeMultipleAssertions}},
		{"XSW: response ID changed so the signature no longer names the root", func(t *testing.T) string {
			return strings.Replace(respSigned, `ID="_resp`, `ID="_evil`, 1)
		}, []Code{CodeSignatureMissing, CodeSignatureInvalid}},
		{"duplicate ID attribute", func(t *testing.T) string {
			return strings.Replace(respSigned, `<samlp:Response `, `<samlp:Response ID="_evil" `, 1)
		}, []Code{CodeMalformedResponse}},
		{"DOCTYPE with entity", func(t *testing.T) string {
			return strings.Replace(respSigned, `?>`, `?><!DOCTYPE r [<!ENTITY e "mallory">]>`, 1)
		}, []Code{CodeMalformedResponse}},
		{"processing instruction", func(t *testing.T) string {
			return strings.Replace(respSigned, `<saml:Issuer`, `<?evil x?><saml:Issuer`, 1)
		}, []Code{CodeMalformedResponse}},
		{"not XML", func(t *testing.T) string { return "hello" }, []Code{CodeMalformedResponse}},
		{"truncated", func(t *testing.T) string { return respSigned[:len(respSigned)/2] }, []Code{CodeMalformedResponse}},
		{"wrong root element", func(t *testing.T) string {
			return `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Version="2.0"/>`
		}, []Code{CodeMalformedResponse}},
		{"SAML 1.1 version", func(t *testing.T) string {
			return strings.Replace(respSigned, `Version="2.0"`, `Version="1.1"`, 1)
		}, []Code{CodeMalformedResponse}},
		{"root in another namespace", func(t *testing.T) string {
			return strings.Replace(respSigned, `xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`, `xmlns:samlp="urn:evil"`, 1)
		}, []Code{CodeMalformedResponse}},
		{"round-trip unstable namespace prefix", func(t *testing.T) string {
			return strings.Replace(respSigned, `<samlp:Status>`, `<samlp:Status xmlns:a:b="urn:x">`, 1)
		}, []Code{CodeMalformedResponse}},
		{"not UTF-8", func(t *testing.T) string {
			return strings.Replace(respSigned, "Jane Doe", "Jane \xff Doe", 1)
		}, []Code{CodeMalformedResponse}},
		{"deeply nested", func(t *testing.T) string {
			return strings.Replace(respSigned, `<samlp:Status>`, strings.Repeat("<x>", 100)+strings.Repeat("</x>", 100)+`<samlp:Status>`, 1)
		}, []Code{CodeResponseTooComplex}},
		{"unknown signature algorithm", func(t *testing.T) string {
			return strings.Replace(respSigned, "xmldsig-more#rsa-sha256", "xmldsig-more#rsa-md5", 1)
		}, []Code{CodeUnsupportedAlgorithm}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, testAccount(t), testNow)
			a, err := v.Verify(encode([]byte(tc.doc(t))), Expect{RequestID: testRequestID})
			if err == nil {
				t.Fatalf("accepted as %q", a.NameID)
			}
			got := CodeOf(err)
			for _, w := range tc.want {
				if got == w {
					return
				}
			}
			t.Fatalf("refused with %s (%v), want one of %v", got, err, tc.want)
		})
	}
}

// TestCommentInjection: exclusive c14n drops comments, so a comment
// inserted into a signed NameID keeps the signature valid. A parser that
// reads text only up to the comment would see "jane.doe" and log in
// someone else (CVE-2017-11427). samlflex reads the verified, canonical
// bytes, so it must see the whole signed value or refuse.
func TestCommentInjection(t *testing.T) {
	t.Parallel()
	respSigned := string(readTestdata(t, "response-signed.xml"))
	v := newTestVerifier(t, testAccount(t), testNow)
	doc := strings.Replace(respSigned, ">jane.doe@acme.example<", ">jane.doe<!---->@acme.example<", 1)
	doc = strings.Replace(doc, ">agent, supervisor<", ">agent<!--x-->, supervisor<", 1)
	a, err := v.Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatalf("comments outside the signed form refused: %v", err)
	}
	if a.NameID != "jane.doe@acme.example" || a.Attributes["roles"][0] != "agent, supervisor" {
		t.Fatalf("read a truncated value: NameID %q roles %q", a.NameID, a.Attributes["roles"])
	}

	// With comments c14n the comment is part of what is signed, so adding
	// one breaks the digest; and if a signed value itself held a comment,
	// textOnly refuses it instead of reading half of it.
	withComments := string(readTestdata(t, "response-signed-with-comments-c14n.xml"))
	doc = strings.Replace(withComments, ">jane.doe@acme.example<", ">jane.doe<!---->@acme.example<", 1)
	_, err = v.Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeSignatureInvalid)
}
