package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

var updateReference = flag.Bool("update", false, "rewrite docs/cli.md from the commands' help")

const referencePath = "../../docs/cli.md"

// cliReference is docs/cli.md: the top usage, each group's usage and each
// command's --help, exactly as the CLI prints them with an empty
// environment (so that no machine's defaults leak in).
func cliReference(t *testing.T) string {
	t.Helper()
	var doc bytes.Buffer
	fmt.Fprint(&doc, "# samlflex command reference\n\n")
	fmt.Fprint(&doc, "Generated from the commands' own help by\n`go test ./cmd/samlflex -run TestCLIReference -update`; do not edit by hand\n(a test fails when this file is stale). Defaults shown are those with no\n`SAMLFLEX_*` variable set.\n\n")
	section := func(title string, args ...string) {
		var out bytes.Buffer
		h := &app{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
		if code := h.run(context.Background(), args); code != exitOK {
			t.Fatalf("samlflex %s: exit %d", strings.Join(args, " "), code)
		}
		fmt.Fprintf(&doc, "## %s\n\n```text\n%s```\n\n", title, out.String())
	}
	section("samlflex", "--help")
	for _, top := range topLevel() {
		if top.name == "help" {
			continue
		}
		if _, ok := findGroup(top.name); ok {
			section("samlflex "+top.name, top.name, "--help")
			for _, c := range subcommands(top.name) {
				section("samlflex "+c.name, append(strings.Fields(c.name), "--help")...)
			}
			continue
		}
		section("samlflex "+top.name, "help", top.name)
	}
	return strings.TrimRight(doc.String(), "\n") + "\n"
}

// TestCLIReference fails when docs/cli.md is not what the CLI prints.
func TestCLIReference(t *testing.T) {
	want := cliReference(t)
	if *updateReference {
		if err := os.WriteFile(referencePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v: generate it with go test ./cmd/samlflex -run TestCLIReference -update", err)
	}
	if string(got) != want {
		t.Fatalf("docs/cli.md is stale: regenerate it with go test ./cmd/samlflex -run TestCLIReference -update")
	}
	for _, c := range commands() {
		if !strings.Contains(want, "## samlflex "+c.name+"\n") {
			t.Errorf("docs/cli.md lacks %s", c.name)
		}
	}
}
