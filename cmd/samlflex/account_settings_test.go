package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestSettingsTableMatchesAccount: every JSON field of the account is a
// row of the settings table (or is written by the store), and every row
// is a JSON field: a new setting cannot be stored without a flag, nor a
// flag added that stores nothing.
func TestSettingsTableMatchesAccount(t *testing.T) {
	t.Parallel()
	notSettings := map[string]bool{"updated_at": true}
	jsonFields := map[string]bool{}
	typ := reflect.TypeOf(samlflex.Account{})
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && !notSettings[name] {
			jsonFields[name] = true
		}
	}
	rows := map[string]bool{}
	for _, s := range accountSettings {
		if rows[s.field] {
			t.Errorf("field %s twice in the table", s.field)
		}
		rows[s.field] = true
		if !jsonFields[s.field] {
			t.Errorf("table row %s is not a JSON field of samlflex.Account", s.field)
		}
		if s.flag != "" && s.usage == "" {
			t.Errorf("--%s has no help", s.flag)
		}
		if s.flag != "" && s.flag != "account-sid" && s.field != "idp_certificates" && s.set == nil {
			t.Errorf("--%s sets nothing", s.flag)
		}
	}
	for f := range jsonFields {
		if !rows[f] {
			t.Errorf("samlflex.Account field %s has no row in accountSettings", f)
		}
	}
	fs, _ := newPutFlags(func(string) string { return "" })
	for _, s := range accountSettings {
		if s.flag != "" && fs.Lookup(s.flag) == nil {
			t.Errorf("--%s is not registered", s.flag)
		}
	}
}

func TestFlagForAndRank(t *testing.T) {
	t.Parallel()
	acct := samlflex.Account{AllowedRedirects: []string{"https://a.example", "https://b.example"}}
	for field, want := range map[string]string{
		"idp_issuer":           "--idp-issuer",
		"max_authn_age":        "--max-authn-age",
		"idp_certificates":     "--idp-cert",
		"idp_certificates[1]":  "--idp-cert b.crt",
		"idp_certificates[5]":  "--idp-cert",
		"allowed_redirects[1]": "--allowed-redirect https://b.example",
		"flex.instance_sid":    "--flex-instance-sid",
		"flex.api_base_url":    "--flex-api-base-url",
		"flex.delivery_url":    "--flex-delivery-url",
	} {
		if got := flagFor(field, acct, []string{"--idp-cert a.crt", "--idp-cert b.crt"}); got != want {
			t.Errorf("flagFor(%s) = %q, want %q", field, got, want)
		}
	}
	order := []string{"account_sid", "idp_certificates[0]", "idp_issuer", "clock_skew", "max_authn_age", "allow_sha1", "email_attribute", "flex.api_key_sid", "version", "unknown"}
	for i := 1; i < len(order); i++ {
		if fieldRank(order[i-1]) >= fieldRank(order[i]) {
			t.Errorf("%s does not rank before %s", order[i-1], order[i])
		}
	}
}

// TestBoolSettingsSpellings: --flag, --flag=false and --flag false all
// work (the docs write the space form).
func TestBoolSettingsSpellings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		sha1 bool
		mode string
	}{
		{"bare", []string{"--allow-sha1"}, true, ""},
		{"equals", []string{"--allow-sha1=true", "--allow-idp-initiated=false"}, true, "refuse"},
		{"space false", []string{"--allow-sha1", "false", "--allow-idp-initiated", "false"}, false, "refuse"},
		{"space true", []string{"--allow-sha1", "true", "--sign-authn-requests", "TRUE"}, true, ""},
		{"bare then flag", []string{"--allow-sha1", "--allow-idp-initiated", "true"}, true, "bounce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cert, _ := testCert(t, dir, "idp.crt")
			r := mustCLI(t, exitOK, nil, append(append(fullPut(filepath.Join(dir, "d"), sidA, cert), tc.args...), "--output", "json")...)
			var got samlflex.Account
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if got.AllowSHA1 != tc.sha1 || string(got.IdPInitiated) != tc.mode {
				t.Fatalf("allow_sha1=%v idp_initiated=%q, want %v %q", got.AllowSHA1, got.IdPInitiated, tc.sha1, tc.mode)
			}
		})
	}
	// A word that is not a bool after a bool flag is still a stray
	// argument, refused.
	dir := t.TempDir()
	cert, _ := testCert(t, dir, "idp.crt")
	r := mustCLI(t, exitUsage, nil, append(fullPut(filepath.Join(dir, "d"), sidA, cert), "--allow-sha1", "maybe")...)
	if !strings.Contains(r.stderr, `unexpected argument "maybe"`) {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

// TestPutCertificateForms: a PEM file with a UTF-8 BOM, a DER file and the
// PEM text itself are all saved as the same canonical PEM.
func TestPutCertificateForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, der := testCert(t, dir, "idp.crt")
	pemText, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	sum := sha256.Sum256(der)
	for name, arg := range map[string]string{
		"bom":         write("bom.crt", append([]byte("\ufeff"), pemText...)),
		"bom crlf":    write("bomcrlf.crt", []byte("\ufeff"+strings.ReplaceAll(string(pemText), "\n", "\r\n"))),
		"der":         write("idp.der", der),
		"inline pem":  string(pemText),
		"inline bare": strings.Join(strings.Split(strings.TrimSpace(string(pemText)), "\n")[1:len(strings.Split(strings.TrimSpace(string(pemText)), "\n"))-1], "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "d")
			r := mustCLI(t, exitOK, nil, append(fullPut(data, sidA, arg), "--output", "json")...)
			var got samlflex.Account
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.IdPCertificates) != 1 || got.IdPCertificates[0] != want {
				t.Fatalf("saved %q, want %q", got.IdPCertificates, want)
			}
			text := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA).stdout
			if !strings.Contains(text, hex.EncodeToString(sum[:])) {
				t.Fatalf("get does not show the fingerprint:\n%s", text)
			}
		})
	}
	// Damaged inline text is refused without echoing it.
	damaged := strings.Replace(string(pemText), "MII", "xx", 1)
	r := mustCLI(t, exitUsage, nil, fullPut(filepath.Join(dir, "d"), sidA, damaged)...)
	if body := strings.Split(damaged, "\n")[1]; !strings.Contains(r.stderr, "--idp-cert "+inlineSource) || strings.Contains(r.stderr, body) {
		t.Fatalf("stderr: %s", r.stderr)
	}
	// A missing file still says so, naming the file.
	r = mustCLI(t, exitUsage, nil, fullPut(filepath.Join(dir, "d"), sidA, filepath.Join(dir, "nope.crt"))...)
	if !strings.Contains(r.stderr, "nope.crt: cannot read the file") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		3 * time.Minute: "3m", time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		30 * time.Second: "30s", 24 * time.Hour: "24h", 1500 * time.Millisecond: "1.5s", 0: "0s",
		time.Hour + time.Second: "1h0m1s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
