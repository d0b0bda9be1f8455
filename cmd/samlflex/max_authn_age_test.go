package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPutMaxAuthnAge: --max-authn-age is saved, shown by get, and checked
// against its bounds.
func TestPutMaxAuthnAge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, append(fullPut(data, sidA, cert), "--max-authn-age", "2h")...)
	text := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA).stdout
	if !strings.Contains(text, "Max authentication age") || !strings.Contains(text, " 2h\n") {
		t.Fatalf("get text:\n%s", text)
	}
	js := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout
	if !strings.Contains(js, `"max_authn_age": "2h0m0s"`) && !strings.Contains(js, `"max_authn_age":"2h0m0s"`) {
		t.Fatalf("get json:\n%s", js)
	}
	for _, bad := range []string{"25h", "10s", "soon"} {
		r := mustCLI(t, exitUsage, nil, "account", "put", "--data", data, "--account-sid", sidA, "--max-authn-age", bad)
		if !strings.Contains(r.stderr+r.stdout, "max_authn_age") && !strings.Contains(r.stderr+r.stdout, "--max-authn-age") {
			t.Fatalf("%s: %s%s", bad, r.stdout, r.stderr)
		}
	}
}
