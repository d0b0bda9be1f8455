package main

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/boltstore"
)

const (
	sidA = samlflextest.AccountSID
	sidB = "ACfedcba9876543210fedcba9876543210"
)

// fullPut returns the args of a complete, valid `account put`.
func fullPut(data, sid, cert string) []string {
	return []string{"account", "put", "--data", data, "--account-sid", sid,
		"--friendly-name", "Salesforce", "--idp-cert", cert,
		"--idp-issuer", "https://acme.my.salesforce.com",
		"--idp-sso-url", "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect",
		"--start-url", "https://flex.twilio.com/agent-desktop"}
}

// TestPutReportsEveryProblem: invalid settings are all reported, one line
// each, with exit 2, and nothing is written.
func TestPutReportsEveryProblem(t *testing.T) {
	t.Parallel()
	damaged := filepath.Join(t.TempDir(), "damaged.crt")
	if err := os.WriteFile(damaged, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string // each must be the start of a line of stderr
	}{
		{
			name: "nothing given",
			args: []string{},
			want: []string{"  --account-sid: must be the Flex Account SID", "  --friendly-name: is required", "  --idp-cert: at least one IdP certificate",
				"  --idp-issuer: is required", "  --idp-sso-url: is required", "  --start-url: is required"},
		},
		{
			name: "malformed SID and URLs",
			args: []string{"--account-sid", "AC123", "--friendly-name", "x", "--idp-cert", damaged,
				"--idp-issuer", "https://acme.my.salesforce.com", "--idp-sso-url", "ftp://acme", "--start-url", "http://flex.example.com/"},
			want: []string{"  --account-sid: must be", "  --idp-cert " + damaged + ": the PEM text is damaged",
				"  --idp-sso-url: must be an absolute https:// URL", "  --start-url: must use https://"},
		},
		{
			name: "bad typed values",
			args: []string{"--account-sid", sidA, "--friendly-name", "x", "--idp-cert", "/nonexistent/idp.crt",
				"--idp-issuer", "https://acme.my.salesforce.com", "--idp-sso-url", "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect",
				"--start-url", "https://flex.twilio.com/agent-desktop", "--clock-skew", "three minutes", "--token-ttl", "48h",
				"--max-response-bytes", "lots", "--allow-sha1=maybe", "--default-roles", "agent,wizard", "--allowed-redirect", "javascript:alert(1)"},
			want: []string{"  --idp-cert /nonexistent/idp.crt: cannot read the file",
				"  --allowed-redirect javascript:alert(1): must be an absolute", "  --default-roles: \"wizard\" is not a Flex role",
				"  --clock-skew: \"three minutes\" is not a duration", "  --allow-sha1: \"maybe\" is not true or false",
				"  --max-response-bytes: \"lots\" is not a whole number", "  --token-ttl: must be between 0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			r := mustCLI(t, exitUsage, nil, append([]string{"account", "put", "--data", data}, tc.args...)...)
			if !strings.HasPrefix(r.stderr, "samlflex account put: nothing was saved") {
				t.Errorf("stderr does not start with the summary:\n%s", r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")[1:]
			if len(lines) != len(tc.want) {
				t.Errorf("%d problem lines, want %d:\n%s", len(lines), len(tc.want), r.stderr)
			}
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, w)
				}
				if !found {
					t.Errorf("no line starting %q in:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %s", r.stdout)
			}
			// Nothing written: the account does not exist afterwards.
			mustCLI(t, exitFailure, nil, "account", "get", "--data", data, "--account-sid", sidA)
		})
	}
}

func TestPutProblemsAsJSON(t *testing.T) {
	t.Parallel()
	r := mustCLI(t, exitUsage, nil, "account", "put", "--data", t.TempDir(), "--account-sid", sidA, "--output", "json")
	var out struct {
		Error    string    `json:"error"`
		Problems []problem `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout not JSON: %v\n%s", err, r.stdout)
	}
	if out.Error != "invalid_settings" || len(out.Problems) != 5 || out.Problems[0].Field != "friendly_name" || out.Problems[0].Flag != "--friendly-name" {
		t.Errorf("JSON = %+v", out)
	}
}

// TestPutGetRoundTrip: what put saves, get shows, as text and as JSON,
// with the URLs to paste into Salesforce.
func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, der := testCert(t, dir, "idp.crt")
	args := append(fullPut(data, sidA, cert), "--allowed-redirect", "https://flex.twilio.com/agent-desktop/tasks",
		"--allow-idp-initiated=false", "--default-roles", "agent, Supervisor", "--clock-skew", "90s", "--allow-sha1",
		"--sign-authn-requests=true", "--max-response-bytes", "500000", "--token-ttl", "30m", "--roles-attribute", "flex_roles")
	r := mustCLI(t, exitOK, nil, args...)
	if !strings.Contains(r.stdout, "Created account "+sidA) {
		t.Errorf("put output:\n%s", r.stdout)
	}

	const base = "https://sso.example.com"
	text := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--base-url", base).stdout
	for _, want := range []string{
		"Account " + sidA + " (version 1",
		"Friendly name              Salesforce",
		"IdP issuer                 https://acme.my.salesforce.com",
		"IdP-initiated logins       refused",
		"Default roles              agent,supervisor",
		"Clock skew                 1m30s",
		"SHA-1 signatures           ACCEPTED (unsafe)",
		"Session token lifetime     30m\n",
		"roles: flex_roles",
		"CN=Test IdP idp.crt",
		"Entity Id         " + base + "/v1/Accounts/" + sidA + "/saml2/metadata\n",
		"ACS URL           " + base + "/v1/Accounts/" + sidA + "/saml2\n",
		"Start URL         https://flex.twilio.com/agent-desktop\n",
		"Subject Type      Username\n",
		"Name ID Format    urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\n",
		"Custom attribute  full_name = $User.FirstName + \" \" + $User.LastName\n",
		"Custom attribute  flex_roles = \"agent\"",
		"Custom attribute  email = $User.Email",
		"Profiles          Manage Profiles",
		"SP metadata       " + base + "/v1/Accounts/" + sidA + "/saml2/metadata\n",
		base + "/v1/Accounts/" + sidA + "/saml2/login",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("get text lacks %q:\n%s", want, text)
		}
	}

	got := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--base-url", base, "--output", "json").stdout)
	wantPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	if got.AccountSID != sidA || got.FriendlyName != "Salesforce" || len(got.IdPCertificates) != 1 || got.IdPCertificates[0] != wantPEM ||
		got.AllowIdPInitiated == nil || *got.AllowIdPInitiated || got.ClockSkew != "1m30s" || !got.AllowSHA1 || !got.SignAuthnRequests ||
		got.MaxResponseBytes != 500000 || got.TokenTTL != "30m0s" || got.RolesAttribute != "flex_roles" || got.Version != 1 ||
		len(got.DefaultRoles) != 2 || len(got.AllowedRedirects) != 1 {
		t.Errorf("get json = %+v", got)
	}
	if got.URLs == nil || got.URLs.ACSURL != base+"/v1/Accounts/"+sidA+"/saml2" || got.URLs.LoginURL != base+"/v1/Accounts/"+sidA+"/saml2/login" {
		t.Errorf("urls = %+v", got.URLs)
	}

	noBase := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA).stdout
	if !strings.Contains(noBase, "add\n--base-url") {
		t.Errorf("get without --base-url gives no hint:\n%s", noBase)
	}
	if j := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout); j.URLs != nil {
		t.Error("JSON has urls without --base-url")
	}
	// SAMLFLEX_BASE_URL is the default of --base-url.
	env := map[string]string{"SAMLFLEX_BASE_URL": base}
	if j := decodeAccount(t, mustCLI(t, exitOK, env, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout); j.URLs == nil {
		t.Error("SAMLFLEX_BASE_URL ignored")
	}
}

// TestPutUpdateKeepsOtherFields: an update changes only the flags given.
func TestPutUpdateKeepsOtherFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, append(fullPut(data, sidA, cert), "--default-roles", "agent", "--clock-skew", "2m")...)
	before := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout)

	r := mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--start-url", "https://flex.twilio.com/agent-desktop/new", "--output", "json")
	after := decodeAccount(t, r.stdout)
	if after.StartURL != "https://flex.twilio.com/agent-desktop/new" || after.Version != 2 {
		t.Errorf("update: %+v", after)
	}
	after.StartURL, after.Version = before.StartURL, before.Version
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("other fields changed:\nbefore %s\nafter  %s", b1, b2)
	}

	// A second certificate for a rollover replaces the list with both.
	cert2, _ := testCert(t, dir, "idp2.crt")
	r = mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--idp-cert", cert, "--idp-cert", cert2)
	if !strings.Contains(r.stdout, "Updated account "+sidA) || !strings.Contains(r.stdout, "2. CN=Test IdP idp2.crt") {
		t.Errorf("rollover put:\n%s", r.stdout)
	}
	// An invalid update is refused whole and the stored account stays.
	mustCLI(t, exitUsage, nil, "account", "put", "--data", data, "--account-sid", sidA, "--idp-issuer", "", "--start-url", "https://new.example/x")
	if got := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout); got.Version != 3 || got.IdPIssuer == "" {
		t.Errorf("after refused update: %+v", got)
	}
}

// TestPutCertificateAsPasted: certificates pasted with Windows line
// endings, without the BEGIN/END lines or indented are read and saved as
// canonical PEM.
func TestPutCertificateAsPasted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, der := testCert(t, dir, "idp.crt")
	b64 := base64.StdEncoding.EncodeToString(der)
	var wrapped []string
	for s := b64; s != ""; {
		n := min(64, len(s))
		wrapped, s = append(wrapped, s[:n]), s[n:]
	}
	canonical := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	tests := []struct {
		name, text string
	}{
		{"CRLF PEM", strings.ReplaceAll(canonical, "\n", "\r\n")},
		{"no headers, CRLF", strings.Join(wrapped, "\r\n") + "\r\n"},
		{"no headers, one line", b64},
		{"indented PEM", "    " + strings.ReplaceAll(strings.TrimSpace(canonical), "\n", "\n    ") + "\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := t.TempDir()
			file := filepath.Join(d, "pasted.crt")
			if err := os.WriteFile(file, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got := decodeAccount(t, mustCLI(t, exitOK, nil, append(fullPut(filepath.Join(d, "data"), sidA, file), "--output", "json")...).stdout)
			if len(got.IdPCertificates) != 1 || got.IdPCertificates[0] != canonical {
				t.Errorf("stored %q, want canonical PEM", got.IdPCertificates)
			}
		})
	}
}

func TestListAndDelete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if r := mustCLI(t, exitOK, nil, "account", "list", "--data", data); !strings.Contains(r.stdout, "No accounts") {
		t.Errorf("empty list:\n%s", r.stdout)
	}
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, fullPut(data, sidB, cert)...)
	mustCLI(t, exitOK, nil, append(fullPut(data, sidA, cert), "--friendly-name", "Okta", "--idp-issuer", "http://www.okta.com/exk1")...)

	text := mustCLI(t, exitOK, nil, "account", "list", "--data", data).stdout
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ACCOUNT SID") || !strings.HasPrefix(lines[1], sidA) || !strings.HasPrefix(lines[2], sidB) {
		t.Fatalf("list:\n%s", text)
	}
	if !strings.Contains(lines[1], "Okta") || !strings.Contains(lines[1], "http://www.okta.com/exk1") || !strings.Contains(lines[1], "(in 36") {
		t.Errorf("list row: %s", lines[1])
	}

	// With --base-url the text list shows each login link too.
	text = mustCLI(t, exitOK, nil, "account", "list", "--data", data, "--base-url", "https://sso.example.com/").stdout
	lines = strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "LOGIN LINK") ||
		!strings.HasSuffix(lines[1], "https://sso.example.com/v1/Accounts/"+sidA+"/saml2/login") ||
		!strings.HasSuffix(lines[2], "https://sso.example.com/v1/Accounts/"+sidB+"/saml2/login") {
		t.Fatalf("list --base-url:\n%s", text)
	}
	if r := mustCLI(t, exitUsage, nil, "account", "list", "--data", data, "--base-url", "http://sso.example.com"); !strings.Contains(r.stderr, "plain http://") {
		t.Errorf("list accepted a plain-http public base URL: %s", r.stderr)
	}

	var list struct {
		Accounts []accountOut `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, exitOK, nil, "account", "list", "--data", data, "--output", "json", "--base-url", "https://sso.example.com").stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Accounts) != 2 || list.Accounts[0].AccountSID != sidA || list.Accounts[1].URLs == nil {
		t.Errorf("list json = %+v", list)
	}

	r := mustCLI(t, exitOK, nil, "account", "delete", "--data", data, "--account-sid", sidA)
	if !strings.Contains(r.stdout, "Deleted account "+sidA+" (Okta") {
		t.Errorf("delete output: %s", r.stdout)
	}
	mustCLI(t, exitFailure, nil, "account", "get", "--data", data, "--account-sid", sidA)
	if r := mustCLI(t, exitFailure, nil, "account", "delete", "--data", data, "--account-sid", sidA); !strings.Contains(r.stderr, "there is no account") {
		t.Errorf("second delete: %s", r.stderr)
	}
	if text := mustCLI(t, exitOK, nil, "account", "list", "--data", data).stdout; strings.Contains(text, sidA) || !strings.Contains(text, sidB) {
		t.Errorf("list after delete:\n%s", text)
	}
}

func TestGetUnknownAccount(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	r := mustCLI(t, exitFailure, nil, "account", "get", "--data", data, "--account-sid", sidA)
	want := "samlflex account get: there is no account " + sidA + " in the embedded store in " + data
	if !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
		t.Errorf("stderr %q, want prefix %q", r.stderr, want)
	}
}

// TestVersionConflict: a put based on a version that is no longer stored
// is refused with a clear message and changes nothing.
func TestVersionConflict(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)
	// Someone (version 1 in hand) saves first...
	mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--expect-version", "1", "--friendly-name", "first")
	// ...then another admin who also read version 1 saves.
	r := mustCLI(t, exitFailure, nil, "account", "put", "--data", data, "--account-sid", sidA, "--expect-version", "1", "--friendly-name", "second")
	if !strings.Contains(r.stderr, "changed by someone else") || !strings.Contains(r.stderr, "run the command again") && !strings.Contains(r.stderr, "Run the command again") {
		t.Errorf("conflict message: %s", r.stderr)
	}
	if got := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout); got.FriendlyName != "first" || got.Version != 2 {
		t.Errorf("after conflict: %+v", got)
	}
	// --expect-version 0 means create only.
	mustCLI(t, exitFailure, nil, append(fullPut(data, sidA, cert), "--expect-version", "0")...)
	mustCLI(t, exitOK, nil, append(fullPut(data, sidB, cert), "--expect-version", "0")...)
	mustCLI(t, exitUsage, nil, "account", "put", "--data", data, "--account-sid", sidA, "--expect-version", "two")
}

// TestStoreInUse: an older samlflex still running on a bbolt directory
// blocks the automatic migration; that is reported in words (not as
// bbolt's bare "timeout"), and nothing changes.
func TestStoreInUse(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	st, err := boltstore.Open(filepath.Join(data, boltFileName), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := mustCLI(t, exitFailure, nil, "account", "list", "--data", data)
	if !strings.Contains(r.stderr, "in use by another samlflex process") || !strings.Contains(r.stderr, "stop it first") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(data, storeFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s created although the migration could not run: %v", storeFileName, err)
	}
}

func TestStorageFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, _ := testCert(t, dir, "idp.crt")
	envData := filepath.Join(dir, "from-env")
	tests := []usageCase{
		{"data and table", nil, []string{"account", "list", "--data", dir, "--dynamodb-table", "t"}, exitUsage, "not both"},
		{"endpoint without table", nil, []string{"account", "list", "--data", dir, "--dynamodb-endpoint", "http://127.0.0.1:1"}, exitUsage, "needs --dynamodb-table"},
		{"explicit data beats env table", map[string]string{"SAMLFLEX_ACCOUNTS_TABLE": "t"}, []string{"account", "list", "--data", dir}, exitOK, ""},
		{"bad output", nil, []string{"account", "list", "--data", dir, "--output", "yaml"}, exitUsage, "--output must be text or json"},
		{"bad base URL", nil, []string{"account", "list", "--data", dir, "--base-url", "sso.example.com"}, exitUsage, "--base-url"},
		{"get without SID", nil, []string{"account", "get", "--data", dir}, exitUsage, "--account-sid is required"},
		{"delete malformed SID", nil, []string{"account", "delete", "--data", dir, "--account-sid", "AC12"}, exitUsage, "is not an Account SID"},
		{"stray argument", nil, []string{"account", "get", "--data", dir, sidA}, exitUsage, "unexpected argument"},
	}
	runUsageCases(t, tests)
	// SAMLFLEX_DATA is where put writes when --data is not given.
	env := map[string]string{"SAMLFLEX_DATA": envData}
	args := fullPut("", sidA, cert)
	args = append(args[:2], args[4:]...) // drop --data ""
	mustCLI(t, exitOK, env, args...)
	if _, err := os.Stat(filepath.Join(envData, storeFileName)); err != nil {
		t.Errorf("SAMLFLEX_DATA not used: %v", err)
	}
}
