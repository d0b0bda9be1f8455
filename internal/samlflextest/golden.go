package samlflextest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// modulePath is the module whose root holds pkg/samlflex/testdata.
const modulePath = "github.com/samlflex/samlflex"

var root struct {
	once sync.Once
	dir  string
	err  error
}

// ModuleRoot returns the directory of the samlflex go.mod, found by walking
// up from the working directory (go test runs in the package's directory).
// Walking up, rather than a fixed "../..", keeps the fixtures reachable from
// packages at any depth; the source-file path from runtime.Caller would not
// survive -trimpath.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := FindModuleRoot()
	if err != nil {
		t.Fatalf("samlflextest: %v", err)
	}
	return dir
}

// FindModuleRoot is ModuleRoot for a TestMain, which has no testing.TB.
func FindModuleRoot() (string, error) {
	root.once.Do(func() { root.dir, root.err = findRoot() })
	return root.dir, root.err
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		// infra/ has a go.mod of its own; only the samlflex module counts.
		if err == nil && isModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory: %w", modulePath, os.ErrNotExist)
		}
		dir = parent
	}
}

func isModule(gomod []byte) bool {
	for _, line := range bytes.Split(gomod, []byte("\n")) {
		if f := bytes.Fields(line); len(f) == 2 && string(f[0]) == "module" {
			return string(f[1]) == modulePath
		}
	}
	return false
}

// Path returns the path of a file of pkg/samlflex/testdata, e.g.
// Path(t, "keys/idp-rsa.crt").
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(ModuleRoot(t), "pkg", "samlflex", "testdata", filepath.FromSlash(name))
}

// Golden returns a file of pkg/samlflex/testdata, e.g.
// Golden(t, "response-signed.b64"), failing the test if it is missing.
func Golden(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// IdPCertificate is the PEM certificate that signed the golden responses
// (keys/idp-rsa.crt).
func IdPCertificate(t testing.TB) string {
	t.Helper()
	return Golden(t, "keys/idp-rsa.crt")
}
