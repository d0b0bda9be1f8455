package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestSettingWarnings(t *testing.T) {
	t.Parallel()
	good := samlflex.Account{
		IdPIssuer: "https://acme.my.salesforce.com",
		IdPSSOURL: "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect",
		StartURL:  "https://flex.twilio.com/agent-desktop",
	}
	for _, tc := range []struct {
		name string
		edit func(*samlflex.Account)
		want []string // flags warned about, in order
	}{
		{"clean", func(*samlflex.Account) {}, nil},
		{"urn issuer", func(a *samlflex.Account) { a.IdPIssuer = "urn:acme:idp" }, nil},
		{"issuer without scheme", func(a *samlflex.Account) { a.IdPIssuer = "acme.my.salesforce.com" }, []string{"--idp-issuer"}},
		{"HttpPost", func(a *samlflex.Account) { a.IdPSSOURL = "https://acme.my.salesforce.com/idp/endpoint/HttpPost" }, []string{"--idp-sso-url"}},
		{"HttpPost slash", func(a *samlflex.Account) { a.IdPSSOURL = "https://acme.my.salesforce.com/idp/endpoint/HttpPost/" }, []string{"--idp-sso-url"}},
		{"fragment", func(a *samlflex.Account) { a.StartURL = "https://flex.twilio.com/agent-desktop#tasks" }, []string{"--start-url"}},
		{"all three", func(a *samlflex.Account) {
			a.StartURL, a.IdPSSOURL, a.IdPIssuer = "https://x.example/#a", "https://x.example/HttpPost", "x.example"
		}, []string{"--idp-issuer", "--idp-sso-url", "--start-url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := good
			tc.edit(&a)
			var got []string
			for _, w := range settingWarnings(a) {
				got = append(got, w.Flag)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("warned %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPutWarnsButSaves: a likely mistake is saved (exit 0) and named on
// stderr; stdout stays the result.
func TestPutWarnsButSaves(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, _ := testCert(t, dir, "idp.crt")
	data := filepath.Join(dir, "d")
	args := append(fullPut(data, sidA, cert), "--idp-sso-url", "https://acme.my.salesforce.com/idp/endpoint/HttpPost", "--output", "json")
	r := mustCLI(t, exitOK, nil, args...)
	if !strings.Contains(r.stderr, "saved, but check") || !strings.Contains(r.stderr, "warning: --idp-sso-url: ends in HttpPost") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if decodeAccount(t, r.stdout).IdPSSOURL != "https://acme.my.salesforce.com/idp/endpoint/HttpPost" {
		t.Fatalf("not saved: %s", r.stdout)
	}
	if r := mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...); r.stderr != "" {
		t.Fatalf("a clean put warns: %s", r.stderr)
	}
}
