package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestNoDirectAWSSDK holds the CLI to its doc: AWS clients are built by
// the adapters (smclient, dynamoclient, doctor's NewAWSClients), never
// inline in a command.
func TestNoDirectAWSSDK(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2") {
				t.Errorf("%s imports %s: build the client in its adapter package", f, p)
			}
		}
	}
}

// TestEnvNamesFromConfig: the CLI names SAMLFLEX_ variables through
// internal/config's constants only, so that a renamed variable cannot
// leave the CLI reading the old one. (Help text may mention them.)
func TestEnvNamesFromConfig(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^SAMLFLEX_[A-Z0-9_]+$`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(v) {
					t.Errorf("%s: %s is a literal; use its internal/config constant", fset.Position(lit.Pos()), v)
				}
			}
			return true
		})
	}
}
