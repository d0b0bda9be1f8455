package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/demo"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// runDevOnce starts `samlflex dev` on data, waits until it serves, and
// stops it, as a developer who tried the demo would.
func runDevOnce(t *testing.T, env map[string]string, args ...string) serving {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan serving, 1)
	out := &samlflextest.LogBuffer{}
	a := &app{stdout: out, stderr: out, getenv: func(k string) string { return env[k] }, now: time.Now,
		onServing: func(s serving) { ready <- s }}
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, append([]string{"dev", "--addr", "127.0.0.1:0"}, args...)) }()
	var s serving
	select {
	case s = <-ready:
	case code := <-done:
		t.Fatalf("dev exited %d before serving:\n%s", code, out.String())
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not start")
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("dev exited %d:\n%s", code, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("dev did not stop")
	}
	return s
}

// TestServeRefusesDemoAccount: a directory dev wrote (as the shared
// default used to be) does not start serve, and the message says how to
// fix it; after the fix serve starts.
func TestServeRefusesDemoAccount(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	runDevOnce(t, nil, "--data", data)
	r := mustCLI(t, exitFailure, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
	for _, want := range []string{
		"holds the demo account",
		demoAccountSID,
		filepath.Join(data, demo.IdPKeyFile),
		"samlflex account delete --account-sid " + demoAccountSID + " --data " + data,
		".samlflex-dev",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("serve's refusal lacks %q:\n%s", want, r.stderr)
		}
	}
	mustCLI(t, exitOK, nil, "account", "delete", "--account-sid", demoAccountSID, "--data", data)
	startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
}

func TestDemoReason(t *testing.T) {
	t.Parallel()
	key, err := demo.GenerateIdPKey(time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	certPath, _ := testCert(t, t.TempDir(), "idp.crt")
	other, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	real := demo.Account("http://127.0.0.1:8080", demoAccountSID, key)
	tests := []struct {
		name string
		edit func(a *samlflex.Account)
		want string // substring of the reason; "" = not a demo account
	}{
		{"as dev writes it", func(*samlflex.Account) {}, "SID"},
		{"SID changed", func(a *samlflex.Account) { a.AccountSID = sidA }, "issuer"},
		{"SID changed, localhost issuer", func(a *samlflex.Account) {
			a.AccountSID, a.IdPIssuer = sidA, "http://localhost:9999"+demo.IdPPath
		}, "issuer"},
		{"SID and issuer changed, demo certificate kept", func(a *samlflex.Account) {
			a.AccountSID, a.IdPIssuer = sidA, "https://acme.my.salesforce.com"
		}, "certificate"},
		{"a real account", func(a *samlflex.Account) {
			a.AccountSID, a.IdPIssuer, a.FriendlyName = sidA, "https://acme.my.salesforce.com", "Salesforce"
			a.IdPCertificates = []string{string(other)}
		}, ""},
		{"a real IdP whose path happens to match", func(a *samlflex.Account) {
			a.AccountSID, a.IdPIssuer = sidA, "https://idp.example.com"+demo.IdPPath
			a.IdPCertificates = []string{string(other)}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := real
			a.IdPCertificates = append([]string(nil), real.IdPCertificates...)
			tt.edit(&a)
			got := demoReason(a)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("demoReason = %q, want one naming %q", got, tt.want)
			}
		})
	}
}

// TestDevOwnDataDir: dev's default is its own directory, and it does not
// follow SAMLFLEX_DATA (serve's).
func TestDevOwnDataDir(t *testing.T) {
	t.Parallel()
	if got := devDataDirDefault(func(k string) string {
		return map[string]string{"SAMLFLEX_DATA": "/srv/samlflex"}[k]
	}); got != ".samlflex-dev" {
		t.Errorf("dev default with only SAMLFLEX_DATA set = %q", got)
	}
	if got := dataDirDefault(func(string) string { return "" }); got == devDataDirDefault(func(string) string { return "" }) {
		t.Error("dev and serve share a default data directory")
	}
	if r := mustCLI(t, exitOK, nil, "dev", "--help"); !strings.Contains(r.stdout, "./.samlflex-dev") {
		t.Errorf("dev --help does not name its directory:\n%s", r.stdout)
	}
	devDir, serveDir := t.TempDir(), t.TempDir()
	s := runDevOnce(t, map[string]string{"SAMLFLEX_DEV_DATA": devDir, "SAMLFLEX_DATA": serveDir})
	if s.DataDir != devDir {
		t.Errorf("dev used %s, want $SAMLFLEX_DEV_DATA %s", s.DataDir, devDir)
	}
	if entries, _ := os.ReadDir(serveDir); len(entries) != 0 {
		t.Errorf("dev wrote into serve's directory: %v", entries)
	}
}
