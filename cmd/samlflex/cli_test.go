package main

import (
	"strings"
	"testing"
)

// TestHelp: every command answers --help (and `samlflex help ...`) with its
// usage on stdout and exit 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"Commands:", "dev", "serve", "account"}},
		{[]string{"--help"}, []string{"Commands:"}},
		{[]string{"-h"}, []string{"Commands:"}},
		{[]string{"help", "account"}, []string{"put", "get", "list", "delete", "--dynamodb-table"}},
		{[]string{"account", "--help"}, []string{"put", "delete"}},
		{[]string{"account", "help", "put"}, []string{"Usage:\n  samlflex account put", "--idp-cert FILE"}},
		{[]string{"help", "account", "put"}, []string{"--allow-idp-initiated", "--expect-version N", "--dynamodb-endpoint URL"}},
		{[]string{"dev", "--help"}, []string{"Usage:\n  samlflex dev", "--addr HOST:PORT", "--data DIR", "(default 127.0.0.1:8080)"}},
		{[]string{"serve", "--help"}, []string{"Usage:\n  samlflex serve", "--base-url URL"}},
		{[]string{"account", "put", "--help"}, []string{"Usage:\n  samlflex account put", "--clock-skew DURATION", "--default-roles ROLES", "Unsafe"}},
		{[]string{"account", "get", "-help"}, []string{"Usage:\n  samlflex account get", "--output FORMAT", "--base-url URL"}},
		{[]string{"account", "list", "--help"}, []string{"Usage:\n  samlflex account list"}},
		{[]string{"account", "delete", "--help"}, []string{"Usage:\n  samlflex account delete", "--account-sid"}},
		{[]string{"help", "dev"}, []string{"Usage:\n  samlflex dev"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := mustCLI(t, exitOK, nil, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, "Commands:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"account"}, "Commands:"},
		{[]string{"account", "rename"}, `unknown command "rename"`},
		{[]string{"help", "nope"}, `unknown command "nope"`},
		{[]string{"account", "put", "--no-such-flag"}, "Run 'samlflex account put --help' for usage."},
		{[]string{"dev", "--addr"}, "flag needs an argument"},
		{[]string{"account", "put", "--allow-sha1", "maybe"}, `unexpected argument "maybe"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := mustCLI(t, exitUsage, nil, tc.args...)
			if !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %s", r.stdout)
			}
		})
	}
}
