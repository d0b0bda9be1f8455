package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestPutIdPInitiated: --idp-initiated sets the mode, --allow-idp-initiated
// maps onto it (false keeps the old field false so an older samlflex still
// refuses), get shows the effective mode, and bad or contradicting values
// are problems.
func TestPutIdPInitiated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		flags      []string
		wantMode   string
		wantLegacy string // allow_idp_initiated in the JSON: "", "false"
		wantText   string
	}{
		{"default", nil, "", "", "IdP-initiated logins       bounce (answered with a samlflex login request) (default)"},
		{"accept", []string{"--idp-initiated", "accept"}, "accept", "", "ACCEPTED directly (unsafe: login CSRF)"},
		{"refuse", []string{"--idp-initiated", "Refuse"}, "refuse", "false", "refused (only the samlflex login link)"},
		{"old true", []string{"--allow-idp-initiated"}, "bounce", "", "bounce"},
		{"old false", []string{"--allow-idp-initiated=false"}, "refuse", "false", "refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			cert, _ := testCert(t, dir, "idp.crt")
			mustCLI(t, exitOK, nil, append(fullPut(data, sidA, cert), tc.flags...)...)
			out := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout
			var got struct {
				Mode   string `json:"idp_initiated"`
				Legacy *bool  `json:"allow_idp_initiated"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			legacy := ""
			if got.Legacy != nil {
				legacy = map[bool]string{true: "true", false: "false"}[*got.Legacy]
			}
			if got.Mode != tc.wantMode || legacy != tc.wantLegacy {
				t.Errorf("idp_initiated %q allow_idp_initiated %q, want %q %q", got.Mode, legacy, tc.wantMode, tc.wantLegacy)
			}
			if text := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA).stdout; !strings.Contains(text, tc.wantText) {
				t.Errorf("get lacks %q:\n%s", tc.wantText, text)
			}
		})
	}

	// Switching from the old false to accept drops the old field.
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, append(fullPut(data, sidA, cert), "--allow-idp-initiated=false")...)
	mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--idp-initiated", "accept")
	if out := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout; strings.Contains(out, "allow_idp_initiated") ||
		!strings.Contains(out, `"idp_initiated": "accept"`) {
		t.Errorf("after switching to accept:\n%s", out)
	}

	for name, flags := range map[string][]string{
		"unknown mode":  {"--idp-initiated", "sometimes"},
		"contradiction": {"--idp-initiated", "accept", "--allow-idp-initiated=false"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cert, _ := testCert(t, dir, "idp.crt")
			r := mustCLI(t, exitUsage, nil, append(fullPut(filepath.Join(dir, "data"), sidA, cert), flags...)...)
			if !strings.Contains(r.stderr, "  --idp-initiated: ") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
		})
	}
}
