package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// notSetByStack are the names the runtime reads that the CDK stack
// deliberately does not set. Each says why; a name added to Load must be
// set by the stack or added here with a reason.
var notSetByStack = map[string]string{
	EnvAccountCacheTTL:  "tuning with a default (60s); an operator may add it to a function",
	EnvKeysCacheTTL:     "tuning with a default (5m)",
	EnvSessionTokenAlg:  "default ES256; RS256 only for a relying party that needs it",
	EnvDynamoDBEndpoint: "test-only: points a function at dynalite or moto",
	EnvSecretsEndpoint:  "test-only: points a function at a Secrets Manager emulator",
}

// cliOnly are SAMLFLEX_ names that only the CLI reads; no function does,
// so the stack must not set them.
var cliOnly = map[string]string{
	EnvData:    "serve's and account's data directory",
	EnvDevData: "dev's data directory",
}

var envName = regexp.MustCompile(`^SAMLFLEX_[A-Z0-9_]+$`)

// envLiterals returns every string literal of the non-test Go files
// matching glob that is a SAMLFLEX_ name, with where it is.
func envLiterals(t *testing.T, glob string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s files (%v)", glob, err)
	}
	names := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(v) {
					names[v] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
	}
	return names
}

// stackEnv is the environment the CDK stack gives the functions: the
// SAMLFLEX_ literals of infra/*.go.
func stackEnv(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for n := range envLiterals(t, "../../infra/*.go") {
		names[n] = true
	}
	return names
}

// TestCLIUsesConfigNames: the CLI names SAMLFLEX_ variables through this
// package's constants only, so that a renamed variable cannot leave the
// CLI reading the old one (help text may mention them).
func TestCLIUsesConfigNames(t *testing.T) {
	t.Parallel()
	for name, where := range envLiterals(t, "../../cmd/samlflex/*.go") {
		t.Errorf("%s: %s is a literal; use its internal/config constant", where, name)
	}
}

// runtimeEnv returns the names Load asks for, with every need on: the
// environment the functions read.
func runtimeEnv() map[string]bool {
	names := map[string]bool{}
	_, _ = Load(func(k string) string { names[k] = true; return "" }, Need{BaseURL: true, Assertions: true})
	return names
}

func TestStackSetsWhatTheRuntimeReads(t *testing.T) {
	t.Parallel()
	stack, runtime := stackEnv(t), runtimeEnv()
	if len(runtime) < 5 {
		t.Fatalf("Load read only %v: the probe is broken", keys(runtime))
	}
	for name := range stack {
		if !runtime[name] {
			t.Errorf("the CDK stack sets %s but no function reads it (internal/config.Load)", name)
		}
		if _, ok := cliOnly[name]; ok {
			t.Errorf("the CDK stack sets the CLI-only %s", name)
		}
		if _, ok := notSetByStack[name]; ok {
			t.Errorf("%s is in notSetByStack but the stack sets it: drop it from the list", name)
		}
	}
	for name := range runtime {
		if _, ok := notSetByStack[name]; !ok && !stack[name] {
			t.Errorf("functions read %s but the CDK stack (infra/*.go) never sets it; set it or list it in notSetByStack with a reason", name)
		}
	}
	for name := range notSetByStack {
		if !runtime[name] {
			t.Errorf("notSetByStack lists %s, which Load does not read", name)
		}
	}
	for name := range cliOnly {
		if runtime[name] {
			t.Errorf("cliOnly lists %s, which Load reads", name)
		}
	}
	t.Logf("stack sets %v", keys(stack))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestParseLogLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "INFO", true}, {"info", "INFO", true}, {"DEBUG", "DEBUG", true}, {" warn ", "WARN", true},
		{"Error", "ERROR", true}, {"loud", "", false}, {"warning", "", false}, {"-4", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			lvl, err := ParseLogLevel(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), EnvLogLevel) {
					t.Fatalf("error %q does not name the variable", err)
				}
				return
			}
			if lvl.String() != tc.want {
				t.Fatalf("got %s, want %s", lvl, tc.want)
			}
		})
	}
}
