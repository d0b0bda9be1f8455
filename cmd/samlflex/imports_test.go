package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
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
