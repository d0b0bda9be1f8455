package samlidp

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const npmTimeout = 5 * time.Minute

// ensureDeps runs `npm ci` in dir when samlify is not installed there yet.
// It installs exactly what package-lock.json pins; CI may run it ahead of
// time (npm ci --prefix test/e2e/idp), after which this is a stat.
//
// Test binaries of several packages can get here at once (go test runs
// packages in parallel), and two npm ci in one folder delete each other's
// files, so the install holds a file lock and re-checks under it.
func ensureDeps(t testing.TB, dir string) {
	t.Helper()
	marker := filepath.Join(dir, "node_modules", "samlify", "package.json")
	if _, err := os.Stat(marker); err == nil {
		return
	}
	npm := requireTool(t, "npm")

	unlock, err := lockFile(filepath.Join(dir, ".npm-ci.lock"))
	if err != nil {
		t.Fatalf("samlidp: lock for npm ci: %v", err)
	}
	defer unlock()
	if _, err := os.Stat(marker); err == nil {
		return // installed by another test binary while we waited
	}

	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--silent", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("samlidp: npm ci in %s took longer than %s:\n%s", dir, npmTimeout, out)
	}
	if err != nil {
		t.Fatalf("samlidp: npm ci in %s: %v\n%s", dir, err, out)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("samlidp: npm ci in %s did not install samlify: %v\n%s", dir, err, out)
	}
}
