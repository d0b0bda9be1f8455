package browser_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/samlflextest/chrometest"
)

const (
	// testTimeout bounds the browser steps of one test.
	testTimeout = 60 * time.Second
	// dumpTimeout bounds the screenshot of a failed test, taken after
	// testTimeout may have run out.
	dumpTimeout = 10 * time.Second
)

// chromiumPath finds Chromium: $CHROMIUM, /usr/bin/chromium (the Debian
// package that CI installs), or chromium in PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	samlflextest.RequireOrSkip(t, "chromium not found (set CHROMIUM, or on Debian: apt-get install chromium)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile for t and
// returns a tab context that ends after testTimeout. The browser, its
// profile and its processes go away when t ends. If t failed, the tab's
// screenshot, address and text are saved first (see dumpPage).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	output := &samlflextest.LogBuffer{}
	tabCtx, ctx := chrometest.Start(t, chrometest.Options(t, exe, chromedp.CombinedOutput(output)), testTimeout,
		func() string { return exe + ": " + output.String() })
	t.Cleanup(func() {
		if t.Failed() {
			dumpPage(t, tabCtx)
			if out := chromiumOutput(output.String()); out != "" {
				t.Logf("chromium output (last lines, without D-Bus noise):\n%s", out)
			}
		}
	})
	return ctx
}

// dumpPage saves a screenshot of the tab into t.ArtifactDir() (kept with
// `go test -artifacts`) and logs where the tab is and what it shows.
func dumpPage(t *testing.T, tabCtx context.Context) {
	ctx, cancel := context.WithTimeout(tabCtx, dumpTimeout)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("browser is at %s", loc)
	}
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		t.Logf("page text:\n%s", text)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".png"
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s (kept with go test -artifacts)", path)
}

// chromiumOutput returns the last lines of Chromium's output, without its
// complaints about the missing D-Bus of a container.
func chromiumOutput(out string) string {
	const keep = 40
	var lines []string
	for line := range strings.Lines(out) {
		if !strings.Contains(line, "dbus/") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-keep):], "")
}

// text waits for the element with the given id and returns its text.
func text(ctx context.Context, t *testing.T, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, timeoutHint(err))
	}
	return s
}

// do runs browser steps and fails t with what was being done.
func do(ctx context.Context, t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, timeoutHint(err))
	}
}

func timeoutHint(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (the element or page never came; see the screenshot and page text below)", err)
	}
	return err
}
