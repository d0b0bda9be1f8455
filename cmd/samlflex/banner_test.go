package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// runServing starts a server command in-process, waits until it listens,
// stops it, and returns what it wrote.
func runServing(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, errb := &samlflextest.LogBuffer{}, &samlflextest.LogBuffer{}
	ready := make(chan serving, 1)
	a := &app{stdout: out, stderr: errb, getenv: func(string) string { return "" }, now: time.Now,
		onServing: func(s serving) { ready <- s }}
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, args) }()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("exited %d:\n%s%s", code, out.String(), errb.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d after cancel:\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop")
	}
	return out.String(), errb.String()
}

// TestServeBanner: serve names its accounts and their login links on
// stderr, and keeps stdout for the log (JSON lines when not a terminal).
func TestServeBanner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)
	stdout, stderr := runServing(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--base-url", "https://sso.example.com")
	for _, w := range []string{"samlflex serve is listening on 127.0.0.1:", sidA + "  Salesforce", "https://sso.example.com/v1/Accounts/" + sidA + "/saml2/login"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("banner lacks %q:\n%s", w, stderr)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("stdout line is not JSON (auto format on a pipe): %q", line)
		}
	}
	// No accounts: the banner says how to add one.
	_, stderr = runServing(t, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "empty"))
	if !strings.Contains(stderr, "No accounts yet") {
		t.Errorf("empty banner:\n%s", stderr)
	}
}

func TestLogFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, _ := runServing(t, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "d"), "--log-format", "text")
	if !strings.Contains(stdout, "level=INFO msg=serving") || strings.Contains(stdout, `"msg":"serving"`) {
		t.Errorf("text log:\n%s", stdout)
	}
	stdout, _ = runServing(t, "dev", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "dev"), "--log-format", "json")
	if !strings.Contains(stdout, `"msg":"serving"`) {
		t.Errorf("json log:\n%s", stdout)
	}
	for _, cmd := range []string{"serve", "dev"} {
		r := mustCLI(t, exitUsage, nil, cmd, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "x"), "--log-format", "yaml")
		if !strings.Contains(r.stderr, `--log-format "yaml": use text, json or auto`) {
			t.Errorf("%s: %s", cmd, r.stderr)
		}
	}
}

// TestSessionTokenAlgFlag: serve and dev refuse an algorithm other than
// ES256 and RS256 before they open anything.
func TestSessionTokenAlgFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, cmd := range []string{"serve", "dev"} {
		r := mustCLI(t, exitUsage, nil, cmd, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, cmd), "--session-token-alg", "HS256")
		if !strings.Contains(r.stderr, `--session-token-alg "HS256": use ES256 or RS256`) {
			t.Errorf("%s: %s", cmd, r.stderr)
		}
	}
}
