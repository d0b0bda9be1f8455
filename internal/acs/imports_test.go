package acs

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the login use case free of HTTP and AWS (doc.go):
// neither acs nor the session package it seals cookies with may reach
// net/http, an AWS SDK or the HTTP layer, directly or through a
// dependency. The rules then run identically under Lambda and serve and
// are testable without a server.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".", "../session").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || strings.HasPrefix(dep, "github.com/aws/") || strings.HasSuffix(dep, "/internal/httpapi") {
			t.Errorf("the login use case depends on %s", dep)
		}
	}
}
