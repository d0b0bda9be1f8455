package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The capture and the golden responses live in pkg/samlflex/testdata (the
// capture is the real Salesforce one of ../shared/testdata/salesforce,
// copied into the repository so that tests never need that directory).
func checkTestdata(name string) string {
	return filepath.Join("..", "..", "pkg", "samlflex", "testdata", name)
}

const (
	captureAt    = "2017-04-30T22:09:50Z"
	captureReqID = "3916979e-3ae2-4e83-87b4-fe2eb884b891"
	goldenAt     = "2026-01-15T10:00:10Z"
	goldenReqID  = "_samlflex_0123456789abcdef0123456789abcdef"
	checkBase    = "https://sso.example.com"
)

// captureArgs checks the real Salesforce capture with samlflex's own
// Entity Id and ACS URL for sidA (settings given as flags, nothing
// stored): the signature is valid (SHA-1 allowed, at its time), and the
// audience, destination and roles cannot be.
func captureArgs(extra ...string) []string {
	return append([]string{"account", "check", "--account-sid", sidA,
		"--response", checkTestdata("salesforce/response-2017-04-30.b64"), "--at", captureAt, "--base-url", checkBase,
		"--idp-cert", checkTestdata("salesforce/salesforce-idp-2017.crt"),
		"--idp-issuer", "https://kolide-dev-ed.my.salesforce.com", "--allow-sha1"}, extra...)
}

type checkJSON struct {
	AccountSID string `json:"account_sid"`
	Accepted   bool   `json:"accepted"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	ACSURL     string `json:"acs_url"`
	EntityID   string `json:"entity_id"`
	Checks     []struct {
		Name     string `json:"name"`
		OK       bool   `json:"ok"`
		Code     string `json:"code"`
		Expected string `json:"expected"`
		Received string `json:"received"`
		Note     string `json:"note"`
		Setting  string `json:"setting"`
	} `json:"checks"`
	Identity *struct {
		Identity string   `json:"identity"`
		Name     string   `json:"name"`
		Email    string   `json:"email"`
		Roles    []string `json:"roles"`
	} `json:"identity"`
}

func decodeCheck(t *testing.T, s string) checkJSON {
	t.Helper()
	var c checkJSON
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return c
}

func (c checkJSON) failed() string {
	var names []string
	for _, k := range c.Checks {
		if !k.OK {
			names = append(names, k.Name)
		}
	}
	return strings.Join(names, ",")
}

// TestCheckRealCapture: every failure of the real capture at once, each
// with the value received.
func TestCheckRealCapture(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "never-created")
	env := map[string]string{"SAMLFLEX_DATA": data}

	r := mustCLI(t, exitFailure, env, captureArgs("--request-id", captureReqID, "--output", "json")...)
	c := decodeCheck(t, r.stdout)
	if c.Accepted || c.Code != "destination_mismatch" || c.failed() != "destination,audience,recipient,roles" {
		t.Fatalf("got code %s, failed %s\n%s", c.Code, c.failed(), r.stdout)
	}
	want := map[string][2]string{
		"signature":   {"3284e587d5e02e632fd9e3b38551b98be916233844d4f6b226141a04c5a54719", ""},
		"destination": {"https://localhost:8080/api/v1/kolide/sso/callback", checkBase + "/v1/Accounts/" + sidA + "/saml2"},
		"audience":    {"kolide", checkBase + "/v1/Accounts/" + sidA + "/saml2/metadata"},
		"roles":       {"no attribute roles", "attribute roles"},
	}
	for _, k := range c.Checks {
		if w, ok := want[k.Name]; ok {
			if !strings.Contains(k.Received, w[0]) || !strings.Contains(k.Expected, w[1]) {
				t.Errorf("check %s: expected %q received %q; want %q / %q", k.Name, k.Expected, k.Received, w[1], w[0])
			}
			delete(want, k.Name)
		}
		if k.Name == "roles" && !strings.Contains(k.Note, "email, is_portal_user, userId, username") {
			t.Errorf("roles: the attributes that did arrive are not listed: %q", k.Note)
		}
	}
	if len(want) > 0 {
		t.Errorf("checks missing: %v", want)
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("a check with settings flags created the data directory %s", data)
	}

	// The text form has the same checks; without --request-id the
	// InResponseTo cannot be matched either.
	r = mustCLI(t, exitFailure, env, captureArgs()...)
	for _, w := range []string{"REFUSED (destination_mismatch)", "FAIL destination (destination_mismatch)", "FAIL audience (audience_mismatch)",
		"received: kolide", "FAIL roles (no_roles)", "FAIL in_response_to (unknown_request)", "ok   signature", "5 checks failed"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("text lacks %q:\n%s", w, r.stdout)
		}
	}
	// SHA-1 not allowed: its own code first, the rest still reported.
	r = mustCLI(t, exitFailure, env, without(captureArgs("--output", "json"), "--allow-sha1", 0)...)
	if c := decodeCheck(t, r.stdout); c.Code != "sha1_not_allowed" || !strings.HasPrefix(c.failed(), "signature_algorithm,destination,audience") {
		t.Fatalf("SHA-1 refused: code %s failed %s", c.Code, c.failed())
	}
}

// TestCheckAccepted: a good response prints the Flex identity; the
// decoded XML, the URL-encoded form value and stdin are read as well as
// the base64 value; the stored account is used when no settings are
// given.
func TestCheckAccepted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := map[string]string{"SAMLFLEX_DATA": data}
	cert := checkTestdata("keys/idp-rsa.crt")
	mustCLI(t, exitOK, env, fullPut(data, sidA, cert)...)

	b64, err := os.ReadFile(checkTestdata("response-signed.b64"))
	if err != nil {
		t.Fatal(err)
	}
	xml, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b64)))
	if err != nil {
		t.Fatal(err)
	}
	formValue := filepath.Join(dir, "form.txt")
	if err := os.WriteFile(formValue, []byte("SAMLResponse="+url.QueryEscape(strings.TrimSpace(string(b64)))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	xmlFile := filepath.Join(dir, "response.xml")
	if err := os.WriteFile(xmlFile, xml, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"account", "check", "--data", data, "--account-sid", sidA, "--at", goldenAt, "--base-url", checkBase, "--request-id", goldenReqID}
	tests := []struct {
		name  string
		file  string
		stdin []byte
	}{
		{"base64", checkTestdata("response-signed.b64"), nil},
		{"URL-encoded form value", formValue, nil},
		{"decoded XML", xmlFile, nil},
		{"stdin", "-", b64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			a := &app{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }, now: time.Now, stdin: bytes.NewReader(tc.stdin)}
			code := a.run(t.Context(), append(base, "--response", tc.file, "--output", "json"))
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
			}
			c := decodeCheck(t, out.String())
			if !c.Accepted || c.failed() != "" || c.Identity == nil || c.Identity.Identity != "jane.doe@acme.example" ||
				strings.Join(c.Identity.Roles, ",") != "agent,supervisor" || len(c.Checks) < 12 {
				t.Fatalf("got %+v", c)
			}
		})
	}
	r := mustCLI(t, exitOK, env, append(base, "--response", checkTestdata("response-signed.b64"))...)
	for _, w := range []string{": ACCEPTED", "Flex identity:", "identity: jane.doe@acme.example", "roles:    agent, supervisor"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("text lacks %q:\n%s", w, r.stdout)
		}
	}
	// A settings flag changes the stored settings for this check only.
	r = mustCLI(t, exitFailure, env, append(base, "--response", checkTestdata("response-signed.b64"), "--idp-issuer", "https://other.my.salesforce.com")...)
	if !strings.Contains(r.stdout, "REFUSED (issuer_mismatch)") {
		t.Fatalf("override not applied:\n%s", r.stdout)
	}
	r = mustCLI(t, exitOK, env, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json")
	if got := decodeAccount(t, r.stdout).IdPIssuer; got != "https://acme.my.salesforce.com" {
		t.Fatalf("check stored its override: issuer %q", got)
	}
}

// TestCheckUsage: exit 2 for what keeps the check from running.
func TestCheckUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"SAMLFLEX_DATA": filepath.Join(dir, "data")}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	capture := captureArgs()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no response", []string{"account", "check", "--account-sid", sidA, "--base-url", checkBase}, "--response is required"},
		{"no account sid", []string{"account", "check", "--response", "-", "--base-url", checkBase}, "--account-sid is required"},
		{"no base URL", []string{"account", "check", "--account-sid", sidA, "--response", "-"}, "--base-url is required"},
		{"bad time", append(captureArgs(), "--at", "yesterday"), "not an RFC 3339 time"},
		{"bad output", append(captureArgs(), "--output", "yaml"), "--output must be text or json"},
		{"empty response", append(captureArgs(), "--response", empty), "is empty"},
		{"missing file", append(captureArgs(), "--response", filepath.Join(dir, "nope")), "no such file"},
		{"no stored account, no settings", []string{"account", "check", "--data", filepath.Join(dir, "data"), "--account-sid", sidA,
			"--response", checkTestdata("salesforce/response-2017-04-30.b64"), "--base-url", checkBase}, "there is no account"},
		// Without --at the capture's certificate (expired 2018) is refused
		// as a setting, as account put would.
		{"certificate expired at the time checked", without(capture, "--at", 1), "expired on 2018-04-24"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustCLI(t, exitUsage, env, tc.args...)
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}

// without returns args without flag and the n values that follow it.
func without(args []string, flag string, n int) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i += n
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestCheckIdPMetadata: the IdP's metadata gives the certificate and
// issuer to check against, as for account put, and is not mixed with the
// manual flags.
func TestCheckIdPMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pemText, err := os.ReadFile(checkTestdata("keys/idp-rsa.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemText)
	if block == nil {
		t.Fatal("no PEM block")
	}
	meta := writeIdPMetadata(t, dir, block.Bytes, bindingRedirect)
	env := map[string]string{"SAMLFLEX_DATA": filepath.Join(dir, "none")}
	args := []string{"account", "check", "--account-sid", sidA, "--response", checkTestdata("response-signed.b64"),
		"--at", goldenAt, "--base-url", checkBase, "--request-id", goldenReqID, "--idp-metadata", meta}
	r := mustCLI(t, exitOK, env, append(args, "--output", "json")...)
	if c := decodeCheck(t, r.stdout); !c.Accepted || c.Identity == nil {
		t.Fatalf("not accepted with the metadata's certificate and issuer:\n%s", r.stdout)
	}
	r = mustCLI(t, exitUsage, env, append(args, "--idp-issuer", "https://acme.my.salesforce.com")...)
	if !strings.Contains(r.stderr, "leave out --idp-issuer") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
}
