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

// TestFlexAuthTokenAndTestUser: the Auth Token is an alternative to an API
// key (stored the same way, never with an API key); flex check says which
// credential Twilio accepted; --provision-test-user provisions, tokens and
// deprovisions a throwaway user and prints what Twilio answered.
func TestFlexAuthTokenAndTestUser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	tw := flextest.New(t, flextest.Options{AccountSID: sidA})
	tokenFile := filepath.Join(dir, "token.txt")
	if err := os.WriteFile(tokenFile, []byte(flextest.AuthToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flexArgs := []string{"--flex-instance-sid", flextest.InstanceSID, "--flex-api-base-url", tw.URL,
		"--flex-delivery-url", "https://flex-app.example.com/"}

	r := mustCLI(t, exitUsage, nil, append(append(fullPut(data, sidA, cert), flexArgs...),
		"--flex-auth-token-file", tokenFile, "--flex-api-key-sid", flextest.APIKeySID)...)
	if !strings.Contains(r.stderr, "use an API key or the Auth Token") {
		t.Fatalf("both credentials:\n%s", r.stderr)
	}
	mustCLI(t, exitOK, nil, append(append(fullPut(data, sidA, cert), flexArgs...), "--flex-auth-token-file", tokenFile)...)
	js := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout
	if strings.Contains(js, flextest.AuthToken) || !strings.Contains(js, `"api_key_sid": "`+sidA+`"`) {
		t.Fatalf("account JSON (the Account SID names the Auth Token; the token is not there):\n%s", js)
	}

	r = mustCLI(t, exitOK, nil, "flex", "check", "--data", data, "--account-sid", sidA)
	if !strings.Contains(r.stdout, "Account SID and Auth Token") || !strings.Contains(r.stdout, "(ready)") ||
		!strings.Contains(r.stdout, "API key is preferred") {
		t.Fatalf("check:\n%s", r.stdout)
	}
	if n := len(tw.Users()); n != 0 {
		t.Fatalf("plain check created %d users", n)
	}

	r = mustCLI(t, exitOK, nil, "flex", "check", "--data", data, "--account-sid", sidA, "--provision-test-user")
	for _, want := range []string{"Test user samlflex-test-", "provision (create)", "HTTP 201", "deprovision", "lookup after deprovision"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("test user output lacks %q:\n%s", want, r.stdout)
		}
	}
	users := tw.Users()
	if len(users) != 1 || !users[0].Deactivated || !strings.HasPrefix(users[0].Username, "samlflex-test-") {
		t.Errorf("after the test user: %+v", users)
	}
	for _, req := range tw.Requests() {
		if req.BasicUser != sidA || req.BasicPassword != flextest.AuthToken {
			t.Fatalf("%s %s not sent with the Auth Token", req.Method, req.Path)
		}
	}

	// Back to an API key: its secret must come with it.
	r = mustCLI(t, exitUsage, nil, "account", "put", "--data", data, "--account-sid", sidA, "--flex-api-key-sid", flextest.APIKeySID)
	if !strings.Contains(r.stderr, "a different API key needs its own secret") {
		t.Errorf("API key without its secret:\n%s", r.stderr)
	}

	// Twilio failing is reported with samlflex's code.
	tw.FailWith(500)
	r = mustCLI(t, exitFailure, nil, "flex", "check", "--data", data, "--account-sid", sidA, "--provision-test-user")
	if !strings.Contains(r.stderr, "flex_unavailable") {
		t.Errorf("Twilio down:\n%s", r.stderr)
	}
}

// TestFlexDeliveryToHostedFlexRefused: the Twilio-hosted Flex UI cannot
// take a token from a URL, so neither a delivery URL there nor (without a
// delivery URL) a start URL there is accepted for a Flex connection.
func TestFlexDeliveryToHostedFlexRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(flextest.APISecret), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--flex-instance-sid", flextest.InstanceSID, "--flex-api-key-sid", flextest.APIKeySID,
		"--flex-api-key-secret-file", secretFile}
	for _, extra := range [][]string{
		{}, // start URL https://flex.twilio.com/agent-desktop
		{"--flex-delivery-url", "https://flex.twilio.com/agent-desktop"},
		{"--flex-delivery-url", "https://eu1.flex.twilio.com/"},
	} {
		r := mustCLI(t, exitUsage, nil, append(append(fullPut(data, sidA, cert), base...), extra...)...)
		if !strings.Contains(r.stderr, "--flex-delivery-url: must not be the Twilio-hosted Flex UI") || !strings.Contains(r.stderr, "Flex SDK") {
			t.Errorf("%v:\n%s", extra, r.stderr)
		}
	}
	mustCLI(t, exitOK, nil, append(append(fullPut(data, sidA, cert), base...), "--flex-delivery-url", "https://agents.example.com/")...)
}
