package samlflex

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const hostileHead = `<?xml version="1.0" encoding="UTF-8"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_evil" Version="2.0" IssueInstant="2026-01-15T10:00:00Z"`

// hostileShape is an unsigned document built to cost work before any
// signature check, sized to stay under the default size cap once
// base64-encoded (what the ACS receives). Each one is the golden response,
// unsigned, with a flood in saml:Advice (a place where the schema allows
// any content) and, for the namespace flood, prefixes declared on the root:
// complete enough that without the bounds it reaches goxmldsig's signature
// search, as the attack of issue 9 did (about 3 s and 2 GiB per request).
type hostileShape struct {
	name  string
	doc   []byte
	class limitClass
}

// maxRawUnderCap is the largest XML whose base64 form fits the default cap.
const maxRawUnderCap = DefaultMaxResponseBytes / 4 * 3

func hostileShapes(tb testing.TB) []hostileShape {
	tb.Helper()
	tpl := unsignedTemplate(tb, "response-signed.xml")
	build := func(rootAttrs, advice string) []byte {
		doc := strings.Replace(tpl, "<samlp:Response ", "<samlp:Response"+rootAttrs+" ", 1)
		return []byte(strings.Replace(doc, "<saml:AuthnStatement ", "<saml:Advice>"+advice+"</saml:Advice><saml:AuthnStatement ", 1))
	}
	// fill repeats unit as often as the size cap allows between head and
	// tail in Advice.
	fill := func(head, unit, tail string) string {
		n := (maxRawUnderCap - len(build("", "")) - len(head) - len(tail) - 64) / len(unit)
		return head + strings.Repeat(unit, n) + tail
	}
	var ns strings.Builder
	for i := range 11000 {
		fmt.Fprintf(&ns, ` xmlns:p%d="u"`, i)
	}
	shapes := []hostileShape{
		{"namespace_flood", build(ns.String(), strings.Repeat("<a/>", 900)), limitNamespaces},
		{"element_flood", build("", strings.Repeat("<a/>", 40000)), limitElements},
		{"deep_nesting", build("", strings.Repeat("<a>", (maxRawUnderCap-len(tpl)-64)/7)+strings.Repeat("</a>", (maxRawUnderCap-len(tpl)-64)/7)), limitDepth},
		{"huge_text", build("", fill("<a>", "x", "</a>")), limitText},
		{"many_attributes", build("", fill("<a", ` a="1"`, "/>")), limitAttributes},
	}
	for _, s := range shapes {
		if n := len(encode(s.doc)); n > DefaultMaxResponseBytes || n < DefaultMaxResponseBytes/2 {
			tb.Fatalf("%s: %d encoded bytes, want under the cap %d but large", s.name, n, DefaultMaxResponseBytes)
		}
	}
	return shapes
}

// TestRefuseTooComplex: each hostile shape is refused with
// response_too_complex naming its limit class, and at the first limit
// crossed: bytes that do not even parse, placed after the point where the
// limit is crossed, are never read.
func TestRefuseTooComplex(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t), testNow)
	for _, s := range hostileShapes(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, doc := range [][]byte{s.doc, append(s.doc[:len(s.doc):len(s.doc)], "<<<&undefined;"...)} {
				_, err := v.Verify(encode(doc), Expect{RequestID: testRequestID})
				wantCode(t, err, CodeResponseTooComplex)
				if PublicOf(err) != limitPublic[s.class] {
					t.Fatalf("public %q, want the %s message", PublicOf(err), s.class)
				}
				if !strings.Contains(err.Error(), string(s.class)+" limit") {
					t.Fatalf("detail %q does not name the limit", err)
				}
			}
		})
	}
}

// TestTooComplexPublicMessages: each class's message names the Salesforce
// setting and never echoes input.
func TestTooComplexPublicMessages(t *testing.T) {
	t.Parallel()
	for class, msg := range limitPublic {
		if !strings.Contains(msg, "custom attributes") || !strings.Contains(msg, "connected app") {
			t.Errorf("%s: %q does not name the setting", class, msg)
		}
	}
	if len(limitPublic) != 5 {
		t.Fatalf("%d limit classes", len(limitPublic))
	}
}

// TestLimitsAcceptRealShapes: a Salesforce-shaped response with 150 custom
// attributes (xmlns:xs and xmlns:xsi declared on every value, 300
// declarations in the document) verifies; a response exactly at the
// element cap still verifies when only its Assertion is signed, the
// signature layout in which goxmldsig traverses the most elements.
func TestLimitsAcceptRealShapes(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t), testNow)

	doc150 := goSign(t, withExtraAttributes(unsignedTemplate(t, "response-signed.xml"), salesforceAttributes(150)), "idp-rsa", false, true)
	a, err := v.Verify(encode(doc150), Expect{RequestID: testRequestID})
	if err != nil {
		t.Fatalf("150 attributes: %v", err)
	}
	if len(a.Attributes) != 156 || a.Attributes["custom_149"][0] != "value 149" {
		t.Fatalf("150 attributes: got %d", len(a.Attributes))
	}

	// Fill to exactly maxXMLElements with extra values of one attribute.
	base := unsignedTemplate(t, "assertion-signed.xml")
	extra := salesforceAttributes(300)
	probe := goSign(t, withExtraAttributes(base, extra), "idp-rsa", true, false)
	missing := maxXMLElements - countElements(t, probe)
	if missing < 1 {
		t.Fatalf("probe has %d elements already", countElements(t, probe))
	}
	pad := `<saml:Attribute Name="pad">` + strings.Repeat(`<saml:AttributeValue>x</saml:AttributeValue>`, missing-1) + `</saml:Attribute>`
	atCap := goSign(t, withExtraAttributes(base, extra+pad), "idp-rsa", true, false)
	if n := countElements(t, atCap); n != maxXMLElements {
		t.Fatalf("built %d elements, want %d", n, maxXMLElements)
	}
	if _, err := v.Verify(encode(atCap), Expect{RequestID: testRequestID}); err != nil {
		t.Fatalf("response at the element cap: %v", err)
	}
	overCap := goSign(t, withExtraAttributes(base, extra+pad+`<saml:Attribute Name="one"/>`), "idp-rsa", true, false)
	_, err = v.Verify(encode(overCap), Expect{RequestID: testRequestID})
	wantCode(t, err, CodeResponseTooComplex)
}

// TestFiveHundredAttributes: a signed, legitimate response with 500
// custom attributes is over goxmldsig's traversal limit. It must get the
// clear answer, not signature_invalid (issue 9).
func TestFiveHundredAttributes(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t), testNow)
	for _, assertionOnly := range []bool{false, true} {
		doc := goSign(t, withExtraAttributes(unsignedTemplate(t, "response-signed.xml"), salesforceAttributes(500)), "idp-rsa", assertionOnly, !assertionOnly)
		_, err := v.Verify(encode(doc), Expect{RequestID: testRequestID})
		wantCode(t, err, CodeResponseTooComplex)
		if PublicOf(err) != limitPublic[limitElements] {
			t.Fatalf("public %q", PublicOf(err))
		}
	}
}

// TestNamespacesInScopeNotTotal: the namespace cap counts declarations in
// scope at one element: many sibling elements may each declare a few
// (Salesforce's AttributeValues), but a chain of nested declarations over
// the cap is refused.
func TestNamespacesInScopeNotTotal(t *testing.T) {
	t.Parallel()
	siblings := hostileHead + `>` + strings.Repeat(`<a xmlns:xs="x" xmlns:xsi="y"/>`, 400) + `</samlp:Response>`
	if err := prescan([]byte(siblings)); err != nil {
		t.Fatalf("800 declarations on siblings refused: %v", err)
	}
	var nested strings.Builder
	nested.WriteString(hostileHead + `>`)
	for i := range maxNSInScope {
		fmt.Fprintf(&nested, `<a xmlns:n%d="u">`, i)
	}
	nested.WriteString(strings.Repeat("</a>", maxNSInScope) + `</samlp:Response>`)
	err := prescan([]byte(nested.String()))
	wantCode(t, err, CodeResponseTooComplex)
	if !strings.Contains(err.Error(), fmt.Sprintf("%d namespace declarations", maxNSInScope+1)) {
		t.Fatalf("detail %v", err)
	}
}

// TestPrescanEdges: values at each limit pass, one over is refused, and
// broken nesting is malformed.
func TestPrescanEdges(t *testing.T) {
	t.Parallel()
	wrap := func(s string) string { return `<r>` + s + `</r>` }
	attrs := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, ` a%d="v"`, i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		doc  string
		want Code
	}{
		{"depth at limit", strings.Repeat("<a>", maxXMLDepth) + strings.Repeat("</a>", maxXMLDepth), ""},
		{"depth over limit", strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1), CodeResponseTooComplex},
		{"attributes at limit", wrap(`<a` + attrs(maxAttrsPerElement) + `/>`), ""},
		{"attributes over limit", wrap(`<a` + attrs(maxAttrsPerElement+1) + `/>`), CodeResponseTooComplex},
		{"text at limit", wrap(strings.Repeat("x", maxTextBytes)), ""},
		{"text over limit", wrap(strings.Repeat("x", maxTextBytes+1)), CodeResponseTooComplex},
		{"attribute value over limit", wrap(`<a v="` + strings.Repeat("x", maxTextBytes+1) + `"/>`), CodeResponseTooComplex},
		{"comment over limit", wrap(`<!--` + strings.Repeat("x", maxTextBytes+1) + `-->`), CodeResponseTooComplex},
		{"elements at limit", wrap(strings.Repeat("<a/>", maxXMLElements-1)), ""},
		{"elements over limit", wrap(strings.Repeat("<a/>", maxXMLElements)), CodeResponseTooComplex},
		// The token budget stops the tokenizer inside a hostile token: the
		// syntax error placed after the budget is never reached.
		{"start tag cut off by the budget", wrap(`<a` + strings.Repeat(` a="1"`, maxTokenBytes/6+1) + ` <<<`), CodeResponseTooComplex},
		{"text cut off by the budget", wrap(strings.Repeat("x", maxTokenBytes+1) + `&undefined;`), CodeResponseTooComplex},
		{"default namespace declarations count", strings.Repeat(`<a xmlns="u">`, maxNSInScope+1) + strings.Repeat("</a>", maxNSInScope+1), CodeResponseTooComplex},
		{"mismatched end tag", `<r><a></b></r>`, CodeMalformedResponse},
		{"unclosed", `<r><a>`, CodeMalformedResponse},
		{"empty", ``, CodeMalformedResponse},
		{"round-trip unstable prefix", `<r xmlns:a:b="urn:x"/>`, CodeMalformedResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := prescan([]byte(tc.doc))
			if tc.want == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tc.want {
					t.Fatalf("got %v, want %s", err, tc.want)
				}
			}
		})
	}
}

// prescan is parseXML for the limit tests, which look at the refusal only.
func prescan(raw []byte) error {
	_, err := parseXML(raw)
	return err
}
