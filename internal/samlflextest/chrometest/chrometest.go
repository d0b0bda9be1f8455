// Package chrometest starts the headless Chromium of the browser tests
// (test/e2e/browser and examples/agent-app), with the same flags and the
// same teardown for both. Only _test.go files import it.
package chrometest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Options are the allocator options of a test browser running exe, then
// extra: headless; no sandbox, as the tests run as root in CI containers,
// where it cannot start; none of Chromium's own traffic (updates, sync,
// QUIC probes), which the closed test network refuses and which only adds
// noise and delay; and a fresh profile in t.TempDir().
func Options(t *testing.T, exe string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	return append(opts, extra...)
}

// Start starts a browser with opts (see Options) and returns its tab, and
// that tab bounded by timeout. The browser outlives t.Context(), which ends
// before the cleanups run, so that a failed test can still look at the
// tab in a cleanup it registers after Start; it goes away when t's
// cleanups run. If it does not start, t fails with the error and then
// detail() (nil: nothing more).
func Start(t *testing.T, opts []chromedp.ExecAllocatorOption, timeout time.Duration, detail func() string) (tab, ctx context.Context) {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	// Cancelling the allocator waits for Chromium to exit, before the
	// profile directory (registered earlier, by Options) is removed.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(tabCtx); err != nil {
		more := ""
		if detail != nil {
			more = "\n" + detail()
		}
		t.Fatalf("start browser: %v%s", err, more)
	}
	ctx, cancel := context.WithTimeout(tabCtx, timeout)
	t.Cleanup(cancel)
	return tabCtx, ctx
}
