package main

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/demo"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
)

// envChildArgs, when set, makes the test binary run samlflex with these
// arguments (separated by newlines) instead of the tests: the crash test
// re-executes the test binary so that it can kill samlflex with SIGKILL.
const envChildArgs = "SAMLFLEX_TEST_CHILD_ARGS"

// TestMain is the child's entry point when a test re-executes the binary
// (a test that skipped in every normal run would count as a skip).
func TestMain(m *testing.M) {
	if args := os.Getenv(envChildArgs); args != "" {
		os.Exit(run(context.Background(), strings.Split(args, "\n"), os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

// startChild runs `samlflex args...` in a child process and waits until
// base answers /healthz. The returned channel is closed when it exits.
func startChild(t *testing.T, base string, args ...string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChildArgs+"="+strings.Join(args, "\n"))
	out := &samlflextest.LogBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, exited
			}
		}
		select {
		case <-exited:
			t.Fatalf("samlflex %s exited before serving:\n%s", strings.Join(args, " "), out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("samlflex %s did not serve within 60s:\n%s", strings.Join(args, " "), out.String())
		}
	}
}

// TestKill9DuringLogins: `samlflex dev` is killed with SIGKILL while
// logins run. Every login it had accepted (303) is still refused as a
// replay after a restart on the same data directory, the store passes
// SQLite's integrity check, and the account is intact.
func TestKill9DuringLogins(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	// A fixed port across the restart: the captured responses name the
	// ACS URL, which derives from it.
	addr := samlflextest.FreeAddr(t)
	base := "http://" + addr
	args := []string{"dev", "--addr", addr, "--data", data}
	cmd, exited := startChild(t, base, args...)

	// Log in continuously from a few "browsers" (IdP-initiated: the demo
	// IdP signs a fresh assertion each time), keeping every response the
	// ACS accepted.
	var (
		mu       sync.Mutex
		accepted []url.Values
		acsURL   string
	)
	const killAfter = 24
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for {
				select {
				case <-exited:
					return
				default:
				}
				acs, form, err := idpInitiated(c, base)
				if err != nil {
					continue // the child died mid-request
				}
				resp, err := c.PostForm(acs, form)
				if err != nil {
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Errorf("ACS answered %d %s before the kill", resp.StatusCode, resp.Header.Get("X-Samlflex-Error"))
					return
				}
				mu.Lock()
				accepted, acsURL = append(accepted, form), acs
				if len(accepted) >= killAfter {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("too few logins within 60s")
	}
	// Logins are still in flight: the kill lands in the middle of some.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	wg.Wait()
	if t.Failed() {
		return
	}
	if cmd.ProcessState.String() != "signal: killed" {
		t.Fatalf("child ended with %s, want killed", cmd.ProcessState)
	}

	// The file is consistent, and the account readable, before anything
	// else opens it.
	st, err := sqlitestore.Open(filepath.Join(data, storeFileName), sqlitestore.Options{})
	if err != nil {
		t.Fatalf("store after kill -9: %v", err)
	}
	if err := st.IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	acct := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", demoAccountSID, "--output", "json").stdout)
	if acct.IdPSSOURL != base+demo.IdPSSOPath || acct.Version < 1 {
		t.Errorf("demo account after kill -9: %+v", acct)
	}

	startChild(t, base, args...)
	c := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i, form := range accepted {
		resp, err := c.PostForm(acsURL, form)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || resp.Header.Get("X-Samlflex-Error") != "assertion_replayed" {
			t.Errorf("accepted login %d replayed after kill -9: %d %q, want 409 assertion_replayed", i, resp.StatusCode, resp.Header.Get("X-Samlflex-Error"))
		}
	}
	t.Logf("%d accepted logins before kill -9, all refused as replays after restart", len(accepted))
}

// idpInitiated asks the demo IdP for an unsolicited response and returns
// the ACS URL and the form a browser would post. It returns errors instead
// of failing the test: it runs in goroutines, and fails while the child is
// being killed.
func idpInitiated(c *http.Client, base string) (string, url.Values, error) {
	resp, err := c.Get(base + demo.IdPInitiatedPath + "?user=alice")
	if err != nil {
		return "", nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", nil, errors.New(resp.Status)
	}
	m := regexp.MustCompile(`<form[^>]*action="([^"]*)"`).FindStringSubmatch(string(page))
	if m == nil {
		return "", nil, errors.New("no form in the demo IdP's page")
	}
	action, err := url.Parse(base)
	if err == nil {
		action, err = action.Parse(html.UnescapeString(m[1]))
	}
	if err != nil {
		return "", nil, err
	}
	fields := url.Values{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
		fields.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	if fields.Get("SAMLResponse") == "" {
		return "", nil, errors.New("no SAMLResponse in the demo IdP's page")
	}
	return action.String(), fields, nil
}
