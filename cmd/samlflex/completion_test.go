package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBashCompletion sources the generated script in a real bash and asks
// it what it completes.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	script := filepath.Join(t.TempDir(), "samlflex.bash")
	if err := os.WriteFile(script, []byte(mustCLI(t, exitOK, nil, "completion", "bash").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line     string // the words typed, the last one being completed
		want     []string
		wantNone []string
	}{
		{"samlflex ", []string{"account", "flex", "keys", "store", "doctor", "dev", "serve", "completion"}, nil},
		{"samlflex ac", []string{"account"}, []string{"flex"}},
		{"samlflex account ", []string{"put", "get", "list", "check", "delete"}, []string{"rotate"}},
		{"samlflex flex ", []string{"check"}, nil},
		{"samlflex account put --allow", []string{"--allow-sha1", "--allow-idp-initiated", "--allowed-redirect"}, []string{"--account-sid"}},
		{"samlflex account put --max-", []string{"--max-authn-age", "--max-response-bytes"}, nil},
		{"samlflex flex check --", []string{"--account-sid", "--provision-test-user"}, []string{"--flex-remove", "--idp-cert"}},
		{"samlflex dev --", []string{"--addr", "--data"}, []string{"--account-sid"}},
		{"samlflex completion ", []string{"bash", "zsh", "fish"}, nil},
	} {
		t.Run(tc.line, func(t *testing.T) {
			t.Parallel()
			words := strings.Fields(tc.line)
			if strings.HasSuffix(tc.line, " ") {
				words = append(words, "")
			}
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = "'" + w + "'"
			}
			prog := ". " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
				itoa(len(words)-1) + "\n_samlflex\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				got[l] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("lacks %s: %q", w, out)
				}
			}
			for _, w := range tc.wantNone {
				if got[w] {
					t.Errorf("offers %s: %q", w, out)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestZshAndFishCompletion(t *testing.T) {
	t.Parallel()
	zsh := mustCLI(t, exitOK, nil, "completion", "zsh").stdout
	for _, w := range []string{"#compdef samlflex", "bashcompinit", "complete -o default -F _samlflex samlflex", "--max-authn-age"} {
		if !strings.Contains(zsh, w) {
			t.Errorf("zsh script lacks %q", w)
		}
	}
	fish := mustCLI(t, exitOK, nil, "completion", "fish").stdout
	for _, w := range []string{
		"complete -c samlflex -n '__fish_use_subcommand' -a 'dev serve account flex keys store doctor completion help'",
		"complete -c samlflex -n '__fish_seen_subcommand_from account; and __fish_seen_subcommand_from put' -l allow-sha1",
		"complete -c samlflex -n '__fish_seen_subcommand_from flex; and __fish_seen_subcommand_from check' -l provision-test-user",
	} {
		if !strings.Contains(fish, w) {
			t.Errorf("fish script lacks %q", w)
		}
	}
	if strings.Contains(fish, "from check' -l flex-remove") {
		t.Error("fish offers --flex-remove to flex check")
	}
	if fish, err := exec.LookPath("fish"); err == nil {
		cmd := exec.Command(fish, "--no-execute")
		cmd.Stdin = strings.NewReader(mustCLI(t, exitOK, nil, "completion", "fish").stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("fish syntax: %v %s", err, out)
		}
	}
}
