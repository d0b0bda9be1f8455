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
		{[]string{"flex", "--help"}, []string{"Usage:\n  samlflex flex <command>", "check "}},
		{[]string{"keys", "--help"}, []string{"Usage:\n  samlflex keys <command>", "show ", "rotate ", "revoke "}},
		{[]string{"store", "--help"}, []string{"Usage:\n  samlflex store <command>", "migrate "}},
		{[]string{"help", "flex"}, []string{"check "}},
		{[]string{"keys", "help", "rotate"}, []string{"Usage:\n  samlflex keys rotate", "--now"}},
		{[]string{"flex", "check", "--help"}, []string{"Usage:\n  samlflex flex check", "--provision-test-user", "--flex-secret-prefix"}},
		{[]string{"completion", "--help"}, []string{"samlflex completion bash|zsh|fish"}},
		{[]string{"help", "completion"}, []string{"samlflex completion bash|zsh|fish"}},
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
		{[]string{"flex"}, "Usage:\n  samlflex flex <command>"},
		{[]string{"keys"}, "Usage:\n  samlflex keys <command>"},
		{[]string{"store"}, "Usage:\n  samlflex store <command>"},
		{[]string{"keys", "rotat"}, `unknown command "rotat"; did you mean "samlflex keys rotate"?`},
		{[]string{"acount", "put"}, `unknown command "acount"; did you mean "samlflex account"?`},
		{[]string{"acocunt"}, `did you mean "samlflex account"?`},
		{[]string{"put"}, `did you mean "samlflex account put"?`},
		{[]string{"flex", "chek"}, `did you mean "samlflex flex check"?`},
		{[]string{"doctr"}, `did you mean "samlflex doctor"?`},
		{[]string{"help", "acount"}, `did you mean "samlflex account"?`},
		{[]string{"flex", "check", "--flex-remove"}, "flag provided but not defined: -flex-remove"},
		{[]string{"flex", "check", "--idp-cert", "x.crt"}, "flag provided but not defined: -idp-cert"},
		{[]string{"completion"}, "name one shell"},
		{[]string{"completion", "powershell"}, `unknown shell "powershell"`},
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

// TestNoSuggestionForFarWords: an unrelated word gets no "did you mean".
func TestNoSuggestionForFarWords(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"frobnicate", "ls", "x", "deploy"} {
		if got := didYouMean(w, ""); got != "" {
			t.Errorf("%q: %s", w, got)
		}
	}
	if got := didYouMean("zzz", "account"); got != "" {
		t.Errorf("zzz: %s", got)
	}
}

// TestTopUsageListsEveryGroup: the top usage names every group and
// top-level command, so no command is hidden (flex once was).
func TestTopUsageListsEveryGroup(t *testing.T) {
	t.Parallel()
	out := mustCLI(t, exitOK, nil, "--help").stdout
	for _, name := range []string{"account", "flex", "keys", "store", "doctor", "dev", "serve", "completion"} {
		if !strings.Contains(out, "\n  "+name+" ") {
			t.Errorf("top usage lacks %s:\n%s", name, out)
		}
	}
	for _, c := range commands() {
		g, _, ok := strings.Cut(c.name, " ")
		if !ok {
			g = c.name
		}
		if !strings.Contains(out, "\n  "+g+" ") {
			t.Errorf("top usage hides %s", c.name)
		}
	}
}

// TestFlexCheckHelpOwnFlags: flex check is read-only, so its help shows
// none of account put's write flags.
func TestFlexCheckHelpOwnFlags(t *testing.T) {
	t.Parallel()
	out := mustCLI(t, exitOK, nil, "flex", "check", "--help").stdout
	for _, w := range []string{"--flex-remove", "--flex-instance-sid", "--flex-api-key-sid", "--flex-api-key-secret-file", "--flex-auth-token-file", "--idp-cert"} {
		if strings.Contains(out, w) {
			t.Errorf("flex check --help lists the write flag %s", w)
		}
	}
}
