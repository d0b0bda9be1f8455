package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// result is one in-process run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs samlflex in-process with env as its whole environment.
func cli(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb, func(k string) string { return env[k] })
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustCLI runs samlflex and fails the test unless it exits with want.
func mustCLI(t *testing.T, want int, env map[string]string, args ...string) result {
	t.Helper()
	r := cli(t, env, args...)
	if r.code != want {
		t.Fatalf("samlflex %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// testCert writes a fresh self-signed certificate valid for a year as PEM
// to dir/name and returns the path and the DER. ECDSA keeps it fast; the
// account only stores and parses certificates here.
func testCert(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "Test IdP " + name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, der
}

// accountOut is the JSON of get/put as a script reads it.
type accountOut struct {
	AccountSID        string   `json:"account_sid"`
	FriendlyName      string   `json:"friendly_name"`
	IdPCertificates   []string `json:"idp_certificates"`
	IdPIssuer         string   `json:"idp_issuer"`
	IdPSSOURL         string   `json:"idp_sso_url"`
	StartURL          string   `json:"start_url"`
	AllowedRedirects  []string `json:"allowed_redirects"`
	AllowIdPInitiated *bool    `json:"allow_idp_initiated"`
	DefaultRoles      []string `json:"default_roles"`
	ClockSkew         string   `json:"clock_skew"`
	AllowSHA1         bool     `json:"allow_sha1"`
	SignAuthnRequests bool     `json:"sign_authn_requests"`
	MaxResponseBytes  int      `json:"max_response_bytes"`
	TokenTTL          string   `json:"token_ttl"`
	RolesAttribute    string   `json:"roles_attribute"`
	Version           int64    `json:"version"`
	URLs              *struct {
		EntityID    string `json:"entity_id"`
		ACSURL      string `json:"acs_url"`
		LoginURL    string `json:"login_url"`
		MetadataURL string `json:"metadata_url"`
	} `json:"urls"`
}

func decodeAccount(t *testing.T, s string) accountOut {
	t.Helper()
	var a accountOut
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return a
}

// startServer runs `samlflex <args>` (dev or serve) in-process until the
// test ends, and returns what it reported once listening. The test's
// cleanup cancels it and checks that it stopped cleanly.
func startServer(t *testing.T, env map[string]string, args ...string) (serving, *samlflextest.LogBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, errb := &samlflextest.LogBuffer{}, &samlflextest.LogBuffer{}
	ready := make(chan serving, 1)
	a := &app{stdout: out, stderr: errb, getenv: func(k string) string { return env[k] }, now: time.Now,
		onServing: func(s serving) { ready <- s }}
	// done is closed when run returns, so that both the start-up wait and
	// the cleanup can wait for it.
	done := make(chan struct{})
	code := -1
	go func() {
		defer close(done)
		code = a.run(ctx, args)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			if code != exitOK {
				t.Errorf("samlflex %s exited %d after cancel\nstderr:\n%s", strings.Join(args, " "), code, errb.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("samlflex %s did not stop within 15s of cancel", strings.Join(args, " "))
		}
	})
	select {
	case s := <-ready:
		return s, out
	case <-done:
		t.Fatalf("samlflex %s exited %d before serving\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("samlflex %s did not start within 30s", strings.Join(args, " "))
	}
	return serving{}, nil
}

// usageCase is one samlflex call, with env as its whole environment, that
// must exit with wantCode and say wantErr on stderr.
type usageCase struct {
	name     string
	env      map[string]string
	args     []string
	wantCode int
	wantErr  string
}

// runUsageCases runs each case in a parallel subtest of its name.
func runUsageCases(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustCLI(t, tc.wantCode, tc.env, tc.args...)
			if !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.wantErr)
			}
		})
	}
}
