package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/flexconn"
)

// TestFlexConnection: account put stores the Flex connection in the account
// and the API key secret in the key/secret store only; a connection
// without a secret is refused with nothing saved; flex check talks to
// Twilio (the stand-in) read-only; --flex-remove turns it off.
func TestFlexConnection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	tw := flextest.New(t, flextest.Options{AccountSID: sidA})
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(flextest.APISecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flexArgs := []string{"--flex-instance-sid", flextest.InstanceSID, "--flex-api-key-sid", flextest.APIKeySID,
		"--flex-api-base-url", tw.URL, "--flex-delivery-url", "https://flex-app.example.com/"}

	// No secret: refused, nothing saved.
	r := mustCLI(t, exitUsage, nil, append(fullPut(data, sidA, cert), flexArgs...)...)
	if !strings.Contains(r.stderr, "--flex-api-key-secret-file: is required") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
	mustCLI(t, exitFailure, nil, "account", "get", "--data", data, "--account-sid", sidA)

	// With the secret.
	mustCLI(t, exitOK, nil, append(append(fullPut(data, sidA, cert), flexArgs...), "--flex-api-key-secret-file", secretFile)...)
	got, err := flexconn.NewFileSecrets(data).APISecret(t.Context(), sidA)
	if err != nil || got != flextest.APISecret {
		t.Fatalf("stored secret %q %v", got, err)
	}
	if fi, err := os.Stat(filepath.Join(data, "flex-secrets.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file %v %v", fi, err)
	}
	js := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout
	if strings.Contains(js, flextest.APISecret) || !strings.Contains(js, flextest.InstanceSID) {
		t.Fatalf("account JSON (secret must not be there, instance must):\n%s", js)
	}

	// flex check: works, and reports a bad key clearly.
	r = mustCLI(t, exitOK, nil, "flex", "check", "--data", data, "--account-sid", sidA)
	if !strings.Contains(r.stdout, "works") {
		t.Fatalf("check:\n%s", r.stdout)
	}
	if n := len(tw.RequestsTo("POST", "")); n != 0 {
		t.Fatalf("flex check made %d POSTs; it must be read-only", n)
	}
	tw.RejectCredentials(true)
	r = mustCLI(t, exitFailure, nil, "flex", "check", "--data", data, "--account-sid", sidA)
	if !strings.Contains(r.stderr, "flex_credentials_invalid") {
		t.Fatalf("bad key:\n%s", r.stderr)
	}

	// An update without the secret flag keeps the stored secret.
	mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--flex-delivery-url", "https://flex-app.example.com/v2")
	// Removing the connection.
	mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--flex-remove")
	if js := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout; strings.Contains(js, `"flex"`) {
		t.Fatalf("connection not removed:\n%s", js)
	}
	mustCLI(t, exitUsage, nil, "account", "put", "--data", data, "--account-sid", sidA, "--flex-remove", "--flex-api-key-sid", flextest.APIKeySID)
}
