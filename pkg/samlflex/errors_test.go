package samlflex

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPublicMessagesNameNoLayer enforces the rule in doc.go: public
// messages name settings by their stored name, never an HTTP status, a CLI
// command or a command-line flag.
func TestPublicMessagesNameNoLayer(t *testing.T) {
	t.Parallel()
	forbidden := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an HTTP status", regexp.MustCompile(`(^|[^-\w])[1-5][0-9][0-9]\b`)},
		{"a command-line flag", regexp.MustCompile(`(^|[\s(])--?[a-z]`)},
		{"a CLI command", regexp.MustCompile("`samlflex|samlflex (account (put|get|list|show|delete)|flex check|dev|serve)\\b")},
	}
	for _, c := range Codes() {
		for _, f := range forbidden {
			if m := f.re.FindString(c.Public); m != "" {
				t.Errorf("%s: public message names %s (%q): %s", c.Code, f.what, m, c.Public)
			}
		}
	}
}

// TestCodesCatalogue: the catalogue holds every Code constant declared in
// errors.go exactly once, in declaration order, each with a known class,
// and Lookup and PublicMessage read from it.
func TestCodesCatalogue(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
				lit := vs.Values[0].(*ast.BasicLit)
				declared = append(declared, strings.Trim(lit.Value, `"`))
			}
		}
	}
	var listed []string
	known := map[Class]bool{ClassInput: true, ClassTooLarge: true, ClassRefused: true, ClassNotFound: true, ClassNotAllowed: true,
		ClassConflict: true, ClassUnavailable: true, ClassUpstream: true, ClassServer: true}
	for _, c := range Codes() {
		listed = append(listed, string(c.Code))
		if !known[c.Class] {
			t.Errorf("%s: class %q is not one of the declared classes", c.Code, c.Class)
		}
		if got, ok := Lookup(c.Code); !ok || got != c {
			t.Errorf("Lookup(%s) = %+v, %v", c.Code, got, ok)
		}
		if PublicMessage(c.Code) != c.Public {
			t.Errorf("PublicMessage(%s) is not the catalogue's", c.Code)
		}
	}
	if !slices.Equal(declared, listed) {
		t.Errorf("catalogue order/content differs from the constants:\n declared %q\n listed   %q", declared, listed)
	}
	if _, ok := Lookup("no_such_code"); ok {
		t.Error("Lookup found a code that is not declared")
	}
	if PublicMessage("no_such_code") != PublicMessage(CodeInternal) {
		t.Error("an unknown code does not fall back to internal's message")
	}
	cs := Codes()
	cs[0].Public = "changed"
	if Codes()[0].Public == "changed" {
		t.Error("Codes returns the catalogue itself, not a copy")
	}
}
