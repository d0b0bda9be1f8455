package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

const completionUsage = `Usage:
  samlflex completion bash|zsh|fish

Prints a shell completion script for commands, command groups and flags.

  bash:  source <(samlflex completion bash)
         (or save it in /etc/bash_completion.d/samlflex)
  zsh:   source <(samlflex completion zsh)
  fish:  samlflex completion fish > ~/.config/fish/completions/samlflex.fish
`

func (a *app) runCompletion(ctx context.Context, args []string) int {
	if len(args) == 1 && isHelpArg(args[0]) {
		fmt.Fprint(a.stdout, completionUsage)
		return exitOK
	}
	if len(args) != 1 {
		fmt.Fprintf(a.stderr, "samlflex completion: name one shell: bash, zsh or fish\n\n%s", completionUsage)
		return exitUsage
	}
	tree := completionTree(ctx)
	switch args[0] {
	case "bash":
		writeBashCompletion(a.stdout, tree, false)
	case "zsh":
		writeBashCompletion(a.stdout, tree, true)
	case "fish":
		writeFishCompletion(a.stdout, tree)
	default:
		fmt.Fprintf(a.stderr, "samlflex completion: unknown shell %q: use bash, zsh or fish\n", args[0])
		return exitUsage
	}
	return exitOK
}

// compTree is what a shell completes: the top-level names, the words
// after a group (its commands; completion's shells), and each command's
// flags.
type compTree struct {
	top   []string
	words map[string][]string // "account" -> put get list delete
	flags map[string][]string // "account put" -> --account-sid ...
}

// completionTree reads every command's flags from its own --help, the one
// place that prints the flags a command really registers (no second list
// to keep in step).
func completionTree(ctx context.Context) compTree {
	t := compTree{words: map[string][]string{}, flags: map[string][]string{}}
	for _, n := range topLevel() {
		t.top = append(t.top, n.name)
	}
	for _, g := range groups() {
		for _, c := range subcommands(g.name) {
			t.words[g.name] = append(t.words[g.name], strings.TrimPrefix(c.name, g.name+" "))
		}
	}
	t.words["completion"] = []string{"bash", "zsh", "fish"}
	t.words["help"] = t.top
	for _, c := range commands() {
		t.flags[c.name] = commandFlags(ctx, c)
	}
	return t
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeBashCompletion(w io.Writer, t compTree, zsh bool) {
	if zsh {
		fmt.Fprint(w, `#compdef samlflex
# zsh completion for samlflex (samlflex completion zsh), through zsh's
# bash-completion emulation.
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
`)
	} else {
		fmt.Fprint(w, "# bash completion for samlflex (samlflex completion bash)\n")
	}
	fmt.Fprintf(w, `_samlflex() {
  local cur="${COMP_WORDS[COMP_CWORD]}" key="${COMP_WORDS[1]}"
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  case "${COMP_WORDS[1]}" in
`, strings.Join(t.top, " "))
	for _, g := range sortedKeys(t.words) {
		fmt.Fprintf(w, "    %s)\n      if [ \"$COMP_CWORD\" -eq 2 ]; then\n        COMPREPLY=($(compgen -W %q -- \"$cur\"))\n        return\n      fi\n      key=\"%s ${COMP_WORDS[2]}\" ;;\n",
			g, strings.Join(t.words[g], " "), g)
	}
	fmt.Fprint(w, `  esac
  # Flags only when a dash is typed: a value (a file, a URL) falls back
  # to the shell's default completion.
  case "$cur" in -*) ;; *) return ;; esac
  case "$key" in
`)
	for _, c := range sortedKeys(t.flags) {
		fmt.Fprintf(w, "    %q) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", c, strings.Join(t.flags[c], " "))
	}
	fmt.Fprint(w, `  esac
}
complete -o default -F _samlflex samlflex
`)
}

func writeFishCompletion(w io.Writer, t compTree) {
	fmt.Fprint(w, "# fish completion for samlflex (samlflex completion fish)\n")
	fmt.Fprintf(w, "complete -c samlflex -n '__fish_use_subcommand' -a '%s'\n", strings.Join(t.top, " "))
	for _, g := range sortedKeys(t.words) {
		fmt.Fprintf(w, "complete -c samlflex -n '__fish_seen_subcommand_from %s; and not __fish_seen_subcommand_from %s' -a '%s'\n",
			g, strings.Join(t.words[g], " "), strings.Join(t.words[g], " "))
	}
	for _, c := range sortedKeys(t.flags) {
		cond := "__fish_seen_subcommand_from " + c
		if g, sub, ok := strings.Cut(c, " "); ok {
			cond = "__fish_seen_subcommand_from " + g + "; and __fish_seen_subcommand_from " + sub
		}
		for _, f := range t.flags[c] {
			fmt.Fprintf(w, "complete -c samlflex -n '%s' -l %s\n", cond, strings.TrimPrefix(f, "--"))
		}
	}
}

// commandFlags runs the command's --help with an empty environment and
// collects its "  --name" lines.
func commandFlags(ctx context.Context, c command) []string {
	var out bytes.Buffer
	h := &app{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	c.run(ctx, h, []string{"--help"})
	var names []string
	// Only the flag list: the description may quote flags too.
	_, list, _ := strings.Cut(out.String(), "\nFlags:\n")
	for _, line := range strings.Split(list, "\n") {
		if rest, ok := strings.CutPrefix(line, "  --"); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, "--"+name)
		}
	}
	sort.Strings(names)
	return names
}
