package lambda_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// The Runtime Interface Emulator, pinned. The module has no semver tags
// (`go list -m -versions` lists none), so the pin is the pseudo-version of
// the commit `@latest` resolved to when this test was written. Bump it by
// hand: go list -m github.com/aws/aws-lambda-runtime-interface-emulator@latest
const (
	rieModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// buildTimeout bounds each go build / go install (a cold module and build
// cache compiles the AWS SDK).
const buildTimeout = 5 * time.Minute

// functionNames are the directories under functions/.
var functionNames = []string{"acs", "metadata", "rotate"}

// binDir holds the bootstraps, built once for the whole test run (hence
// package state, which samlflex's own code avoids); TestMain removes it.
var binDir string

var bootstraps struct {
	once  sync.Once
	paths map[string]string // function name -> .../<name>/bootstrap
	took  time.Duration
	err   error
}

var rie struct {
	once sync.Once
	path string
	took time.Duration
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "samlflex-lambda-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda test:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "lambda test:", err)
	}
	os.Exit(code)
}

func goTool() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go not in PATH: %w", err)
	}
	return p, nil
}

// functionBootstrap returns the path of functions/<name> built as
// <dir>/<name>/bootstrap. All three are built on the first call, in one go
// build (which compiles them in parallel), for the host's GOOS/GOARCH
// because the RIE runs them here, with the flags of scripts/build.sh.
func functionBootstrap(t *testing.T, name string) string {
	t.Helper()
	bootstraps.once.Do(func() {
		start := time.Now()
		bootstraps.paths, bootstraps.err = buildBootstraps()
		bootstraps.took = time.Since(start)
	})
	if bootstraps.err != nil {
		t.Fatal(bootstraps.err)
	}
	p, ok := bootstraps.paths[name]
	if !ok {
		t.Fatalf("no function %q", name)
	}
	return p
}

func buildBootstraps() (map[string]string, error) {
	out := filepath.Join(binDir, "build")
	if err := buildFunctions(out, runtime.GOOS, runtime.GOARCH); err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, n := range functionNames {
		// Lambda runs the file named bootstrap in the task root; the RIE
		// gets the same layout, one directory per function.
		dir := filepath.Join(binDir, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, "bootstrap")
		if err := os.Rename(filepath.Join(out, n), p); err != nil {
			return nil, err
		}
		paths[n] = p
	}
	return paths, nil
}

// buildFunctions builds functions/{acs,metadata,rotate} into the directory
// out (created) as out/<name>, for goos/goarch, with the flags of
// scripts/build.sh that do not depend on the target (CGO_ENABLED=0,
// -tags lambda.norpc, -trimpath) plus extra flags. One go build compiles
// the three in parallel.
func buildFunctions(out, goos, goarch string, extra ...string) error {
	gobin, err := goTool()
	if err != nil {
		return err
	}
	root, err := samlflextest.FindModuleRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	args := append([]string{"build", "-tags", "lambda.norpc", "-trimpath"}, extra...)
	args = append(args, "-o", out+string(filepath.Separator))
	for _, n := range functionNames {
		args = append(args, "./functions/"+n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOOS=%s GOARCH=%s go %v: %w\n%s", goos, goarch, args, err, b)
	}
	return nil
}

// rieBinary returns the RIE, built with go install on the first call of a
// machine and cached under os.UserCacheDir()/samlflex/rie-<version>. It
// skips t (fails with CI=true) when the RIE cannot be built, for example
// without access to the module proxy.
func rieBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		samlflextest.RequireOrSkip(t, "the Lambda Runtime Interface Emulator runs on Linux and macOS only")
	}
	rie.once.Do(func() {
		start := time.Now()
		rie.path, rie.err = installRIE()
		rie.took = time.Since(start)
	})
	if rie.err != nil {
		samlflextest.RequireOrSkip(t, fmt.Sprintf("cannot build the Lambda Runtime Interface Emulator %s@%s: %v", rieModule, rieVersion, rie.err))
	}
	return rie.path
}

func installRIE() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = binDir // no cache: build once for this run
	}
	dir := filepath.Join(cache, "samlflex", "rie-"+rieVersion)
	exe := filepath.Join(dir, "aws-lambda-rie")
	if fi, err := os.Stat(exe); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o100 != 0 {
		return exe, nil
	}
	gobin, err := goTool()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Installed into a private directory, then renamed into place, so that
	// a concurrent test run never sees a half-written binary.
	tmp, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "install", rieModule+"/cmd/aws-lambda-rie@"+rieVersion)
	// Outside the samlflex module: pkg@version ignores go.mod anyway, and
	// a go.work above the repository must not interfere.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install: %w\n%s", err, b)
	}
	if err := os.Rename(filepath.Join(tmp, "aws-lambda-rie"), exe); err != nil {
		if _, statErr := os.Stat(exe); statErr == nil {
			return exe, nil // another run won the race
		}
		return "", errors.Join(errors.New("caching the RIE"), err)
	}
	return exe, nil
}
