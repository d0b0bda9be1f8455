package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // runtime failure: store, network, not found, conflict
	exitUsage   = 2 // usage or validation error: nothing was done
)

// app carries what every command needs. Nothing in it is global: tests
// build their own.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// onServing, when set, is called once a server (dev or serve) is
	// listening, with what it prints in its banner. Tests use it to learn
	// the port chosen for 127.0.0.1:0.
	onServing func(serving)
	// stdin is read by commands that take - for a file (nil: os.Stdin).
	stdin io.Reader
}

// serving describes a started server.
type serving struct {
	Addr    string // host:port actually bound
	BaseURL string
	DataDir string
	// LoginURL is the demo account's login link (dev only).
	LoginURL string
}

// run is the whole program minus process wiring (see main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	return a.run(ctx, args)
}

// command is one runnable command. flags builds its FlagSet (so that
// `samlflex help X` can print the same usage that `X --help` does).
type command struct {
	name     string // "account put"
	summary  string
	synopsis string
	about    string
	run      func(ctx context.Context, a *app, args []string) int
}

func commands() []command {
	return []command{
		{name: "dev", summary: "run everything locally with a demo identity provider (start here)",
			synopsis: "samlflex dev [--addr 127.0.0.1:8080] [--data DIR]", about: devAbout, run: runDev},
		{name: "serve", summary: "run the service provider on this machine (embedded store, file keys)",
			synopsis: "samlflex serve [--addr 127.0.0.1:8080] [--base-url URL] [--data DIR]", about: serveAbout, run: runServe},
		{name: "account put", summary: "create or update an account's settings",
			synopsis: "samlflex account put --account-sid AC... [settings] [storage]", about: putAbout, run: runPut},
		{name: "account get", summary: "show an account's settings and the URLs to paste into Salesforce",
			synopsis: "samlflex account get --account-sid AC... [--base-url URL] [--output text|json] [storage]", about: getAbout, run: runGet},
		{name: "account list", summary: "list the accounts",
			synopsis: "samlflex account list [--base-url URL] [--output text|json] [storage]", about: listAbout, run: runList},
		{name: "account check", summary: "check a captured SAML response offline: every check, expected and received",
			synopsis: "samlflex account check --account-sid AC... --response FILE|- [--at TIME] [--request-id ID] [--base-url URL] [--output text|json] [settings] [storage]", about: checkAbout, run: runCheck},
		{name: "account delete", summary: "delete an account's settings",
			synopsis: "samlflex account delete --account-sid AC... [storage]", about: deleteAbout, run: runDelete},
		{name: "flex check", summary: "check an account's Flex connection with Twilio (read-only)",
			synopsis: "samlflex flex check --account-sid AC... [--provision-test-user] [storage]", about: flexCheckAbout, run: runFlexCheck},
		{name: "store migrate", summary: "convert an older samlflex's data directory (bbolt) to SQLite",
			synopsis: "samlflex store migrate [--data DIR]", about: storeMigrateAbout, run: runStoreMigrate},
		{name: "keys show", summary: "show the SP key set and when the previous key retires",
			synopsis: "samlflex keys show [--data DIR | --secret-id SECRET]", about: keysShowAbout, run: runKeysShow},
		{name: "keys rotate", summary: "rotate the SP keys; --now replaces a leaked key at once",
			synopsis: "samlflex keys rotate [--now [--retire-previous]] [--data DIR | --secret-id SECRET]", about: keysRotateAbout, run: runKeysRotate},
		{name: "keys revoke", summary: "remove one SP key from the JWKS, login cookies and metadata",
			synopsis: "samlflex keys revoke --kid KID [--data DIR | --secret-id SECRET]", about: keysRevokeAbout, run: runKeysRevoke},
		{name: "doctor", summary: "check a running deployment from the outside (TLS, metadata, login link, clock, rotation)",
			synopsis: "samlflex doctor --base-url URL [--account-sid AC...] [--output text|json] [--stack NAME] [--secret-id ARN]", about: doctorAbout, run: runDoctor},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// group is a command group (`samlflex account ...`): its commands are the
// commands() whose name starts with the group's.
type group struct {
	name    string
	summary string // one line, for the top usage
	about   string // the group's help, before its command list
	footer  string // after the command list (flags common to the group)
}

// groups in the order of the top usage; the top-level commands (dev,
// serve, doctor) are listed between them by topLevel.
func groups() []group {
	return []group{
		{name: "account", summary: "create, show, list, check and delete account settings (put, get, list, check, delete)",
			about: accountGroupAbout, footer: accountGroupFooter},
		{name: "flex", summary: "check an account's Flex connection with Twilio (flex check)",
			about: "samlflex flex works with an account's Flex connection (the Flex connector;\nsee docs/flex.md). Its settings are saved with `samlflex account put --flex-...`."},
		{name: "keys", summary: "show, rotate and revoke the SP signing keys (emergencies: docs/keys.md)",
			about: keysGroupAbout},
		{name: "store", summary: "convert an older samlflex's data directory (bbolt) to SQLite (store migrate)",
			about: "samlflex store maintains the embedded store of serve and dev (a data directory)."},
	}
}

func findGroup(name string) (group, bool) {
	for _, g := range groups() {
		if g.name == name {
			return g, true
		}
	}
	return group{}, false
}

// subcommands are the commands of a group, by their last word.
func subcommands(g string) []command {
	var out []command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, g+" ") {
			out = append(out, c)
		}
	}
	return out
}

// topLevel is the top usage's list: every group and every command that
// is not in a group, in one order (the reference docs and the completion
// scripts use it too).
func topLevel() []struct{ name, summary string } {
	out := []struct{ name, summary string }{}
	add := func(name, summary string) { out = append(out, struct{ name, summary string }{name, summary}) }
	for _, name := range []string{"dev", "serve", "account", "flex", "keys", "store", "doctor"} {
		if g, ok := findGroup(name); ok {
			add(g.name, g.summary)
		} else if c, ok := findCommand(name); ok {
			add(c.name, c.summary)
		}
	}
	add("completion", "print a shell completion script: completion bash|zsh|fish")
	add("help", "show help for a command, for example: samlflex help account put")
	return out
}

func isHelpArg(s string) bool {
	return s == "help" || s == "-h" || s == "-help" || s == "--help"
}

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.printTopUsage(a.stderr)
		return exitUsage
	}
	switch {
	case isHelpArg(args[0]):
		return a.help(ctx, args[1:])
	case args[0] == "completion":
		return a.runCompletion(ctx, args[1:])
	}
	if g, ok := findGroup(args[0]); ok {
		if len(args) < 2 {
			a.printGroupUsage(a.stderr, g)
			return exitUsage
		}
		if isHelpArg(args[1]) {
			return a.help(ctx, append([]string{g.name}, args[2:]...))
		}
		c, ok := findCommand(g.name + " " + args[1])
		if !ok {
			fmt.Fprintf(a.stderr, "samlflex %s: unknown command %q%s\n\n", g.name, args[1], didYouMean(args[1], g.name))
			a.printGroupUsage(a.stderr, g)
			return exitUsage
		}
		return c.run(ctx, a, args[2:])
	}
	c, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(a.stderr, "samlflex: unknown command %q%s\n\n", args[0], didYouMean(args[0], ""))
		a.printTopUsage(a.stderr)
		return exitUsage
	}
	return c.run(ctx, a, args[1:])
}

// help prints the usage of the named command or group to stdout.
func (a *app) help(ctx context.Context, topic []string) int {
	name := strings.Join(topic, " ")
	if name == "" {
		a.printTopUsage(a.stdout)
		return exitOK
	}
	if g, ok := findGroup(name); ok {
		a.printGroupUsage(a.stdout, g)
		return exitOK
	}
	if name == "completion" {
		fmt.Fprint(a.stdout, completionUsage)
		return exitOK
	}
	c, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(a.stderr, "samlflex help: unknown command %q%s\n\n", name, didYouMean(name, ""))
		a.printTopUsage(a.stderr)
		return exitUsage
	}
	// The command prints its own usage for --help, with the flags it
	// really registers.
	return c.run(ctx, a, []string{"--help"})
}

func (a *app) printTopUsage(w io.Writer) {
	fmt.Fprint(w, `samlflex signs agents in to Twilio Flex with Salesforce as the SAML identity provider.

Usage:
  samlflex <command> [flags]

Commands:
`)
	for _, t := range topLevel() {
		fmt.Fprintf(w, "  %-11s %s\n", t.name, t.summary)
	}
	fmt.Fprint(w, `
Start here: go run ./cmd/samlflex dev
Every command takes --help; "samlflex account --help" lists a group's commands.
Flags may be written -flag or --flag; true/false flags as --flag, --flag=false
or --flag false.
Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error.
`)
}

func (a *app) printGroupUsage(w io.Writer, g group) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  samlflex %s <command> [flags]\n\nCommands:\n", strings.TrimSpace(g.about), g.name)
	for _, c := range subcommands(g.name) {
		fmt.Fprintf(w, "  %-8s %s\n", strings.TrimPrefix(c.name, g.name+" "), c.summary)
	}
	if g.footer != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(g.footer))
	}
	fmt.Fprintf(w, "\nRun \"samlflex %s <command> --help\" for the flags of a command.\n", g.name)
}

const accountGroupAbout = `samlflex account manages the settings of Flex accounts: the values the Flex
setup guide has you copy from Salesforce (certificate, issuer, redirect URL)
and samlflex's own options.`

const accountGroupFooter = `Storage (every account command):
  --data DIR                the embedded store in DIR (default $SAMLFLEX_DATA, else ./.samlflex)
  --dynamodb-table TABLE    the DynamoDB accounts table instead (default $SAMLFLEX_ACCOUNTS_TABLE),
                            with the default AWS credential chain
  --dynamodb-endpoint URL   a local DynamoDB (dynalite, DynamoDB Local) for tests`

// parseFlags parses args into fs. It returns done=true with the exit code
// when the command must stop: --help (usage on stdout, exit 0) or a usage
// error (message on stderr, exit 2). Positional arguments are refused:
// every command takes flags only, so a stray word is a typo.
func (a *app) parseFlags(c command, fs *flag.FlagSet, args []string) (int, bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(joinBoolValues(fs, args))
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(a.stdout, c, fs)
		return exitOK, true
	case err != nil:
		return a.usageError(c, "%v", err), true
	case fs.NArg() > 0:
		return a.usageError(c, "unexpected argument %q (every setting is a flag)", fs.Arg(0)), true
	}
	return exitOK, false
}

// joinBoolValues lets a true/false flag take its value after a space, as
// every other flag does: "--allow-sha1 false" becomes "--allow-sha1=false".
// The flag package alone would read "false" as a stray argument (a bare
// --allow-sha1 means true, and stays so). Only a following word that is a
// boolean is joined; the commands take no positional arguments, so that
// word could mean nothing else.
func joinBoolValues(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
		if name != arg && !strings.Contains(name, "=") && i+1 < len(args) && isBoolFlag(fs.Lookup(name)) {
			if _, err := strconv.ParseBool(args[i+1]); err == nil {
				out = append(out, arg+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, arg)
	}
	return out
}

func isBoolFlag(f *flag.Flag) bool {
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// usageError prints a usage error and the way to the command's help.
func (a *app) usageError(c command, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "samlflex %s: %s\nRun 'samlflex %s --help' for usage.\n", c.name, fmt.Sprintf(format, args...), c.name)
	return exitUsage
}

// failure prints a runtime failure.
func (a *app) failure(c command, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "samlflex %s: %s\n", c.name, fmt.Sprintf(format, args...))
	return exitFailure
}

// printUsage writes the command's synopsis, description and flags, in the
// --flag spelling that the setup guide uses.
func printUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n\nFlags:\n", c.synopsis, strings.TrimSpace(c.about))
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		for _, l := range strings.Split(usage, "\n") {
			fmt.Fprintln(w, "        "+l)
		}
		// A usage that explains its own default (one that comes from the
		// environment) is not followed by the computed one.
		if f.DefValue != "" && f.DefValue != "false" && !strings.Contains(usage, "default") {
			fmt.Fprintf(w, "        (default %s)\n", f.DefValue)
		}
	})
	fmt.Fprintln(w, "  --help\n        show this help")
}
