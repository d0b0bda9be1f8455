package samlflextest_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

const kitPath = "github.com/samlflex/samlflex/internal/samlflextest"

// TestOnlyTestFilesImportTheKit keeps the kit out of every binary: a
// non-test file that imports it fails here, naming the file.
func TestOnlyTestFilesImportTheKit(t *testing.T) {
	t.Parallel()
	root := samlflextest.ModuleRoot(t)
	fset := token.NewFileSet()
	var checked int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// node_modules and dot directories hold no samlflex code; infra
			// is a module of its own and cannot import internal packages.
			if path != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || path == filepath.Join(root, "infra")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == kitPath || strings.HasPrefix(p, kitPath+"/") {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s; only _test.go files may", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must have seen the kit's own files and the rest of the module.
	if checked < 50 {
		t.Fatalf("checked %d Go files; the walk missed the module", checked)
	}
	if _, err := os.Stat(filepath.Join(root, "pkg", "samlflex", "testdata")); err != nil {
		t.Fatal(err)
	}
}
