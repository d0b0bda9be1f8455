package samlflex

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// Tests that kill mutants scripts/mutation.sh found alive (docs/mutation.md):
// each case pins an answer that one operator change in the code would flip.

// TestIsTwilioHostedFlex: the host test is exact (flex.twilio.com or a
// subdomain, case and a trailing dot ignored), and a URL that does not
// parse is not the hosted UI (rather than a panic on a nil URL).
func TestIsTwilioHostedFlex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://flex.twilio.com/agent-desktop", true},
		{"https://FLEX.twilio.com./agent-desktop", true},
		{"https://eu1.flex.twilio.com/", true},
		{"https://notflex.twilio.com/", false},
		{"https://flex.twilio.com.evil.example/", false},
		{"https://agent.example.com/", false},
		{"https://flex.twilio.com/%zz", false}, // does not parse
		{"", false},
	} {
		if got := IsTwilioHostedFlex(tc.url); got != tc.want {
			t.Errorf("IsTwilioHostedFlex(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

// TestTruncateDetailBoundaries: exactly maxDetailText bytes are kept
// whole, one more is cut; the cut steps back to a rune start (never past
// the start of the string, even when no byte is one).
func TestTruncateDetailBoundaries(t *testing.T) {
	t.Parallel()
	atLimit := strings.Repeat("x", maxDetailText)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"at the limit", atLimit, atLimit},
		{"one over", atLimit + "y", atLimit + "…(257 bytes)"},
		// "a" then 2-byte runes: byte 256 is the second byte of a rune, so
		// the cut steps back one byte to 255.
		{"cut inside a rune", "a" + strings.Repeat("é", 200), "a" + strings.Repeat("é", 127) + "…(401 bytes)"},
		// Continuation bytes only (not UTF-8): no rune start to step back
		// to, so nothing is kept.
		{"no rune start", strings.Repeat("\x80", 300), "…(300 bytes)"},
	} {
		if got := truncateDetail(tc.in); got != tc.want {
			t.Errorf("%s: truncateDetail = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestIdPMetadataManyEntitiesListed: an error detail names the first
// maxMetadataEntityIDs IdP entities and counts the rest.
func TestIdPMetadataManyEntitiesListed(t *testing.T) {
	t.Parallel()
	cur := idpmdCertB64(t, "idp-rsa.crt")
	var entities []string
	for i := range maxMetadataEntityIDs + 2 {
		entities = append(entities, idpmdEntity(fmt.Sprintf("https://e%d.test", i), "", cur))
	}
	_, err := ParseIdPMetadata([]byte(idpmdGroup("", entities...)), idpmdNow, "")
	wantCode(t, err, CodeInvalidConfig)
	detail := err.Error()
	if !strings.Contains(detail, `12 IdP entities: "https://e0.test", `) || !strings.HasSuffix(detail, `"https://e9.test", and 2 more`) {
		t.Fatalf("detail %q: want the first 10 entityIDs and \"and 2 more\"", detail)
	}
	if strings.Contains(detail, "e10.test") {
		t.Fatalf("detail %q names more than 10 entities", detail)
	}
}

// TestIdPMetadataSizeCapEdge: a document of exactly MaxIdPMetadataBytes is
// read; one byte more is refused before any parsing.
func TestIdPMetadataSizeCapEdge(t *testing.T) {
	t.Parallel()
	doc := idpmdEntity("https://a.test", "", idpmdCertB64(t, "idp-rsa.crt"))
	atCap := doc + strings.Repeat(" ", MaxIdPMetadataBytes-len(doc)) // whitespace after the root
	if m, err := ParseIdPMetadata([]byte(atCap), idpmdNow, ""); err != nil || m.EntityID != "https://a.test" {
		t.Fatalf("%d bytes: %v, %q", len(atCap), err, m.EntityID)
	}
	_, err := ParseIdPMetadata([]byte(atCap+" "), idpmdNow, "")
	wantCode(t, err, CodeInvalidConfig)
	if !strings.Contains(PublicOf(err), "larger than samlflex accepts") {
		t.Fatalf("one byte over: %q", PublicOf(err))
	}
}

// TestIdPMetadataScanBoundsEdge: metadata with exactly maxMetadataElements
// elements, or nested exactly maxMetadataDepth deep, is read; one more is
// refused. The padding is unknown elements in the EntityDescriptor, which
// the metadata types ignore.
func TestIdPMetadataScanBoundsEdge(t *testing.T) {
	t.Parallel()
	base := idpmdEntity("https://a.test", "", idpmdCertB64(t, "idp-rsa.crt"))
	baseElements := strings.Count(base, "<md:") + strings.Count(base, "<ds:")
	if baseElements != 7 {
		t.Fatalf("base entity has %d elements, the test assumes 7", baseElements)
	}
	pad := func(inner string) string {
		return strings.Replace(base, "<md:IDPSSODescriptor ", inner+"<md:IDPSSODescriptor ", 1)
	}
	nest := func(levels int) string { // levels below the root
		return pad(strings.Repeat("<x>", levels) + strings.Repeat("</x>", levels))
	}
	for _, tc := range []struct {
		name string
		doc  string
		ok   bool
	}{
		{"elements at the cap", pad(strings.Repeat("<x/>", maxMetadataElements-baseElements)), true},
		{"elements over the cap", pad(strings.Repeat("<x/>", maxMetadataElements-baseElements+1)), false},
		{"depth at the cap", nest(maxMetadataDepth - 1), true},
		{"depth over the cap", nest(maxMetadataDepth), false},
	} {
		_, err := ParseIdPMetadata([]byte(tc.doc), idpmdNow, "")
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && (CodeOf(err) != CodeInvalidConfig || !strings.Contains(PublicOf(err), "more XML elements, or nests them deeper")) {
			t.Errorf("%s: got %v, want the bounds refusal", tc.name, err)
		}
	}
}

// TestTokenTooLongClass: the class named for a token cut off by the
// budget. A start tag names namespaces or attributes only when it holds
// more of them than the caps; anything else (and a cut-off that is not a
// start tag, however short) is a long value.
func TestTokenTooLongClass(t *testing.T) {
	t.Parallel()
	decls := func(n int) string { return strings.Repeat(` xmlns:p="u"`, n) }
	attrs := func(n int) string { return strings.Repeat(` a="1"`, n) }
	for _, tc := range []struct {
		name  string
		tok   string
		class limitClass
	}{
		{"empty", "", limitText},
		{"a lone <", "<", limitText},
		{"comment", "<!--" + decls(maxNSInScope+1), limitText},
		{"processing instruction", "<?pi" + decls(maxNSInScope+1), limitText},
		{"text", "xxx" + decls(maxNSInScope+1), limitText},
		{"namespaces at the cap", "<a" + decls(maxNSInScope), limitText},
		{"namespaces over the cap", "<a" + decls(maxNSInScope+1), limitNamespaces},
		{"attributes at the cap", "<a" + attrs(maxAttrsPerElement), limitText},
		{"attributes over the cap", "<a" + attrs(maxAttrsPerElement+1), limitAttributes},
	} {
		err := tokenTooLong([]byte(tc.tok))
		if err.Code != CodeResponseTooComplex || err.Public != limitPublic[tc.class] {
			t.Errorf("%s: got %v (%q), want the %s message", tc.name, err, err.Public, tc.class)
		}
	}
}

// TestTokenBudgetBoundary: a token may take maxTokenBytes+1 bytes (the
// budget is checked before each byte past the first maxTokenBytes); one
// byte more is cut off. The start tag's attribute values stay under
// maxTextBytes and its attributes under the cap, so only the budget can
// refuse it.
func TestTokenBudgetBoundary(t *testing.T) {
	t.Parallel()
	tag := func(n int) string { // a start tag of n bytes
		const frame = `<a v="" w=""/>`
		rest := n - len(frame)
		return `<a v="` + strings.Repeat("x", rest/2) + `" w="` + strings.Repeat("y", rest-rest/2) + `"/>`
	}
	if n := len(tag(maxTokenBytes + 1)); n != maxTokenBytes+1 {
		t.Fatalf("built %d bytes", n)
	}
	if err := prescan([]byte(`<r>` + tag(maxTokenBytes+1) + `</r>`)); err != nil {
		t.Fatalf("start tag of maxTokenBytes+1 bytes refused: %v", err)
	}
	err := prescan([]byte(`<r>` + tag(maxTokenBytes+2) + `</r>`))
	wantCode(t, err, CodeResponseTooComplex)
	if !errors.Is(err, errTokenTooLong) && !strings.Contains(err.Error(), "a token of over") {
		t.Fatalf("start tag of maxTokenBytes+2 bytes: %v, want the budget's refusal", err)
	}
}

// TestTokenBudgetRead: tokenBudget is also an io.Reader (encoding/xml
// takes one), reading one byte per call within the same budget.
func TestTokenBudgetRead(t *testing.T) {
	t.Parallel()
	b := &tokenBudget{raw: []byte("ab")}
	if n, err := b.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	p := make([]byte, 4)
	for _, want := range "ab" {
		if n, err := b.Read(p); n != 1 || err != nil || rune(p[0]) != want {
			t.Fatalf("Read = %d, %v, %q; want 1 byte %q", n, err, p[:n], want)
		}
	}
	if n, err := b.Read(p); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read at the end = %d, %v; want io.EOF", n, err)
	}
	long := &tokenBudget{raw: make([]byte, maxTokenBytes+2)}
	for range maxTokenBytes + 1 {
		if _, err := long.Read(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := long.Read(p); !errors.Is(err, errTokenTooLong) {
		t.Fatalf("Read past the budget: %v, want errTokenTooLong", err)
	}
}

// TestPrescanValuesAtLimit: an attribute value and a comment of exactly
// maxTextBytes pass (TestPrescanEdges refuses one byte more).
func TestPrescanValuesAtLimit(t *testing.T) {
	t.Parallel()
	x := strings.Repeat("x", maxTextBytes)
	for _, doc := range []string{
		`<r><a v="` + x + `"/></r>`,
		`<r><!--` + x + `--></r>`,
	} {
		if err := prescan([]byte(doc)); err != nil {
			t.Errorf("%.20s…: %v", doc, err)
		}
	}
}

// TestSignatureErrorRankAcrossCertificates: when the trusted certificates
// fail in different ways, the most telling failure is reported whatever
// the order they are tried in; here an expired trusted certificate (tried
// first or last) beats a valid one that does not verify the signature.
// no-keyinfo.xml names no certificate, so neither is refused as untrusted.
func TestSignatureErrorRankAcrossCertificates(t *testing.T) {
	t.Parallel()
	for _, certs := range [][]string{
		{"idp-rsa-expired.crt", "other-rsa.crt"},
		{"other-rsa.crt", "idp-rsa-expired.crt"},
	} {
		v := newTestVerifier(t, testAccount(t, certs...), testNow)
		_, err := v.Verify(encode(readTestdata(t, "no-keyinfo.xml")), Expect{RequestID: testRequestID})
		if CodeOf(err) != CodeCertificateExpired {
			t.Errorf("certificates %v: got %v, want %s", certs, err, CodeCertificateExpired)
		}
	}
}
