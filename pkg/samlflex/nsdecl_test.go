package samlflex

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// A namespace declaration that nothing uses, xmlns:Name="...", is left out
// of the signed bytes by exclusive c14n: adding one to a signed response
// keeps its signature valid. It is not an attribute. A reader that matches
// attributes by local name under any prefix (etree's SelectAttrValue) takes
// it for Name, and an attacker holding any signed response could then
// rename attributes (roles), refresh IDs and instants (replay), or point
// Recipient and Destination at this ACS. These tests hold that such
// declarations change nothing samlflex reads.

// readAttributeNames returns every attribute name the package's code reads
// with attrValue or timeAttr, so that a new read is covered without
// editing the test.
func readAttributeNames(t *testing.T) []string {
	t.Helper()
	var names []string
	inspectPackage(t, func(_ *token.FileSet, n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); !ok || (id.Name != "attrValue" && id.Name != "timeAttr") {
			return true
		}
		if lit, ok := call.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
		return true
	})
	slices.Sort(names)
	for _, must := range []string{"Algorithm", "AuthnInstant", "Destination", "ID", "InResponseTo", "IssueInstant",
		"Method", "Name", "NotOnOrAfter", "PrefixList", "Recipient", "URI", "Value", "Version"} {
		if !slices.Contains(names, must) {
			t.Fatalf("the scan of attrValue/timeAttr calls found %v, without %s: is the scan broken?", names, must)
		}
	}
	return names
}

var startTag = regexp.MustCompile(`<([A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*`)

// declareOnEveryElement adds xmlns:name="urn:samlflex:decoy" as the first
// attribute of every element, where a first-match lookup finds it first.
func declareOnEveryElement(doc, name string) string {
	head, body, ok := strings.Cut(doc, "?>")
	if !ok {
		head, body = "", doc
	} else {
		head += "?>"
	}
	return head + startTag.ReplaceAllStringFunc(body, func(tag string) string {
		return tag + ` xmlns:` + name + `="urn:samlflex:decoy"`
	})
}

// sameOutcome fails t unless doc and tampered verify alike: both refused
// with one code, or both accepted with equal assertions.
func sameOutcome(t *testing.T, v *Verifier, expect Expect, doc, tampered string) {
	t.Helper()
	if doc == tampered {
		t.Fatal("the edit changed nothing")
	}
	want, wantErr := v.Verify(encode([]byte(doc)), expect)
	got, err := v.Verify(encode([]byte(tampered)), expect)
	if CodeOf(err) != CodeOf(wantErr) {
		t.Fatalf("with the declarations: %v; without: %v", err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("with the declarations read %+v; without %+v", got, want)
	}
}

// TestUnusedDeclarationNamedLikeAnAttribute declares every attribute name
// the package reads, one name at a time, on every element of golden
// responses signed by xmlsec1 (accepted and refused ones): the outcome
// must not change.
func TestUnusedDeclarationNamedLikeAnAttribute(t *testing.T) {
	t.Parallel()
	names := readAttributeNames(t)
	for _, file := range []string{"response-signed.xml", "assertion-signed.xml", "both-signed.xml", "response-signed-ecdsa.xml",
		"holder-of-key.xml", "in-response-to-differs.xml", "no-audience.xml", "confirmation-window-narrower.xml"} {
		doc := string(readTestdata(t, file))
		for _, name := range names {
			t.Run(file+"/"+name, func(t *testing.T) {
				t.Parallel()
				v := newTestVerifier(t, testAccount(t, "idp-rsa.crt", "idp-ec.crt"), testNow)
				sameOutcome(t, v, Expect{RequestID: testRequestID}, doc, declareOnEveryElement(doc, name))
			})
		}
	}
}

// TestUnusedDeclarationAttacks: the attacks the red-team review built on
// this (each accepted before attrValue), with decoys chosen to succeed.
func TestUnusedDeclarationAttacks(t *testing.T) {
	t.Parallel()
	later := testNow.Add(400 * 24 * time.Hour)
	fresh, freshEnd := later.Format(time.RFC3339), later.Add(time.Minute).Format(time.RFC3339)
	const elsewhere = "https://elsewhere.example/acs"
	tests := []struct {
		name  string
		file  string
		now   time.Time
		edits []string // old, new pairs, each replaced once
		check func(t *testing.T, a *Assertion)
	}{
		{name: "full_name renamed to roles: role escalation", file: "response-signed.xml",
			edits: []string{
				`<saml:Attribute Name="full_name"`, `<saml:Attribute xmlns:Name="roles" Name="full_name"`,
				`<saml:Attribute Name="roles"`, `<saml:Attribute xmlns:Name="urn:x:hidden" Name="roles"`,
			},
			check: func(t *testing.T, a *Assertion) {
				if r := a.Attributes["roles"]; len(r) == 0 || slices.Contains(r, "Jane Doe") {
					t.Fatalf("roles %q", r)
				}
			}},
		{name: "a year-old response with a fresh ID, fresh instants and another browser's request", file: "response-signed.xml", now: later,
			edits: []string{
				`ID="_asrt0001" IssueInstant=`, `xmlns:ID="_fresh42" xmlns:IssueInstant="` + fresh + `" ID="_asrt0001" IssueInstant=`,
				`<saml:SubjectConfirmationData `, `<saml:SubjectConfirmationData xmlns:InResponseTo="_attacker_req" xmlns:NotOnOrAfter="` + freshEnd + `" `,
				`<saml:Conditions `, `<saml:Conditions xmlns:NotOnOrAfter="` + freshEnd + `" `,
				`<saml:AuthnStatement `, `<saml:AuthnStatement xmlns:AuthnInstant="` + fresh + `" `,
			}},
		{name: "assertion-signed: the ID and the Reference URI renamed together", file: "assertion-signed.xml",
			edits: []string{`<ds:Reference URI=`, `<ds:Reference xmlns:URI="#_fresh99" URI=`, ` ID="_asrt`, ` xmlns:ID="_fresh99" ID="_asrt`},
			check: func(t *testing.T, a *Assertion) {
				if a.ID == "_fresh99" {
					t.Fatalf("assertion ID %q", a.ID)
				}
			}},
		{name: "holder-of-key presented as bearer", file: "holder-of-key.xml",
			edits: []string{`<saml:SubjectConfirmation Method=`, `<saml:SubjectConfirmation xmlns:Method="urn:oasis:names:tc:SAML:2.0:cm:bearer" Method=`}},
		{name: "another request's response rebound to this browser", file: "in-response-to-differs.xml",
			edits: []string{`<saml:SubjectConfirmationData `, `<saml:SubjectConfirmationData xmlns:InResponseTo="` + testRequestID + `" `}},
		{name: "both signed: an ID decoy on the root hides the Response signature", file: "both-signed.xml",
			edits: []string{`<samlp:Response `, `<samlp:Response xmlns:ID="_x" `},
			check: func(t *testing.T, a *Assertion) {
				if a.Signed != "response+assertion" {
					t.Fatalf("signed %q", a.Signed)
				}
			}},
		{name: "Destination and Recipient decoys naming another ACS", file: "response-signed.xml",
			edits: []string{`<samlp:Response `, `<samlp:Response xmlns:Destination="` + elsewhere + `" `,
				`<saml:SubjectConfirmationData `, `<saml:SubjectConfirmationData xmlns:Recipient="` + elsewhere + `" `}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := string(readTestdata(t, tc.file))
			tampered := replaceEach(t, doc, tc.edits...)
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			v := newTestVerifier(t, testAccount(t), now)
			sameOutcome(t, v, Expect{RequestID: testRequestID}, doc, tampered)
			if tc.check != nil {
				a, err := v.Verify(encode([]byte(tampered)), Expect{RequestID: testRequestID})
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, a)
			}
		})
	}
}

// TestNoLaxAttributeLookup keeps etree's SelectAttr and SelectAttrValue,
// which match an attribute's local name under any prefix (namespace
// declarations included), out of the package's code: attrValue reads
// unqualified attributes only. It also keeps out etree's NamespaceURI,
// whose cost is every attribute of every ancestor (namespaceOf).
func TestNoLaxAttributeLookup(t *testing.T) {
	t.Parallel()
	inspectPackage(t, func(fset *token.FileSet, n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		switch {
		case !ok:
		case strings.HasPrefix(sel.Sel.Name, "SelectAttr"):
			t.Errorf("%s: %s matches any prefix; use attrValue", fset.Position(sel.Pos()), sel.Sel.Name)
		case sel.Sel.Name == "NamespaceURI":
			t.Errorf("%s: NamespaceURI reads every ancestor's attributes; use namespaceOf", fset.Position(sel.Pos()))
		}
		return true
	})
}

// inspectPackage walks the syntax of the package's non-test files.
func inspectPackage(t *testing.T, visit func(*token.FileSet, ast.Node) bool) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool { return visit(fset, n) })
	}
}

// TestNamespaceOfMatchesEtree: namespaceOf, which stops at an element's
// first attribute that is not a declaration, answers what etree's full
// NamespaceURI walk answers, for every element of every fixture and of a
// document whose declarations come after other attributes in the source
// (parseXML moves them first).
func TestNamespaceOfMatchesEtree(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	docs := map[string][]byte{"declarations last": []byte(`<a:R b="1" xmlns:a="urn:a" c="2" xmlns="urn:d"><E x="1" xmlns:a="urn:a2"><a:F/><G xmlns="" y="2"/></E><a:H z="3" xmlns:z="urn:z"/></a:R>`)}
	for _, f := range files {
		docs[f] = readTestdata(t, filepath.Base(f))
	}
	for name, doc := range docs {
		parsed, err := parseXML(doc)
		if err != nil {
			continue // refused fixtures (encoding, DTD) have no tree
		}
		root := parsed.Root()
		var walk func(e *etree.Element)
		n := 0
		walk = func(e *etree.Element) {
			n++
			if got, want := namespaceOf(e), e.NamespaceURI(); got != want {
				t.Errorf("%s: <%s> namespaceOf %q, etree %q", name, e.FullTag(), got, want)
			}
			for _, c := range e.ChildElements() {
				walk(c)
			}
		}
		walk(root)
		if n < 2 {
			t.Errorf("%s: walked %d elements", name, n)
		}
	}
}
