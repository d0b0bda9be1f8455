package browser_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const buildTimeout = 5 * time.Minute

// binDir holds the samlflex binary, built once for the whole test run
// (hence package state, which samlflex's own code avoids); TestMain
// removes it.
var binDir string

var build struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "samlflex-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser e2e:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "browser e2e:", err)
	}
	os.Exit(code)
}

// samlflexBinary builds ./cmd/samlflex once per test run, the first time a
// test asks for it, so that `go test -run` of a test that needs no binary
// does not pay for the build.
func samlflexBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("go not in PATH: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		out := filepath.Join(binDir, "samlflex")
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "github.com/samlflex/samlflex/cmd/samlflex")
		if b, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/samlflex: %w\n%s", err, b)
			return
		}
		build.path = out
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}
