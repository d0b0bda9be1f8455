package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/demo"
)

// browser is a net/http client with a cookie jar that does not follow
// redirects on its own, so that each hop can be checked.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// form returns the action and hidden fields of the page's form, as a
// browser reads them (HTML-unescaped), resolved against base.
func (b *browser) form(base, page string) (string, url.Values) {
	b.t.Helper()
	m := regexp.MustCompile(`<form[^>]*action="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no form in page:\n%s", page)
	}
	action, err := url.Parse(base)
	if err != nil {
		b.t.Fatal(err)
	}
	action, err = action.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	fields := url.Values{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		fields.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	return action.String(), fields
}

type whoami struct {
	Verified bool     `json:"verified"`
	Sub      string   `json:"sub"`
	Name     string   `json:"name"`
	Email    string   `json:"email"`
	Roles    []string `json:"roles"`
	Exp      int64    `json:"exp"`
	Code     string   `json:"code"`
}

// landOnDesktop follows the ACS answer to the landing page and does what
// its script does: take the token from the fragment and ask whoami.
func (b *browser) landOnDesktop(s serving, acsResp *http.Response) whoami {
	b.t.Helper()
	if acsResp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("ACS answered %d, want 303", acsResp.StatusCode)
	}
	loc, err := url.Parse(acsResp.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	token, ok := strings.CutPrefix(loc.Fragment, "token=")
	if loc.Scheme+"://"+loc.Host+loc.Path != s.BaseURL+demo.DesktopPath || !ok || token == "" {
		b.t.Fatalf("ACS redirected to %s, want the demo desktop with #token=", loc.Redacted())
	}
	loc.Fragment = ""
	resp, page := b.get(loc.String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="identity"`) || !strings.Contains(page, `id="roles"`) {
		b.t.Fatalf("landing page: %d\n%s", resp.StatusCode, page)
	}
	whoamiURL := regexp.MustCompile(`data-whoami="([^"]+)"`).FindStringSubmatch(page)
	if whoamiURL == nil {
		b.t.Fatal("landing page names no whoami URL")
	}
	resp, body := b.post(html.UnescapeString(whoamiURL[1]), url.Values{"token": {token}})
	var w whoami
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		b.t.Fatalf("whoami %d: %v\n%s", resp.StatusCode, err, body)
	}
	if resp.StatusCode != http.StatusOK || !w.Verified {
		b.t.Fatalf("whoami refused the token: %d %+v", resp.StatusCode, w)
	}
	return w
}

// TestDevSmoke runs `samlflex dev` in-process on a free port and signs in
// end to end over HTTP, as a browser would: login link, demo IdP form,
// credentials, auto-post to the ACS, 303 to the landing page with the
// token, and the landing page's check of the token against the JWKS.
func TestDevSmoke(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s, stdout := startServer(t, nil, "dev", "--addr", "127.0.0.1:0", "--data", data)

	banner := stdout.String()
	for _, want := range []string{s.LoginURL, "alice", "bob", "carol", `"demo"`, data, "Press Ctrl-C to stop", demoAccountSID} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if !strings.HasPrefix(s.BaseURL, "http://127.0.0.1:") || strings.HasSuffix(s.BaseURL, ":0") {
		t.Fatalf("base URL %q: want the bound loopback port", s.BaseURL)
	}

	t.Run("SP-initiated", func(t *testing.T) {
		b := newBrowser(t)
		resp, _ := b.get(s.LoginURL)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("login link: %d", resp.StatusCode)
		}
		resp, page := b.get(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "TEST IdP — local only") {
			t.Fatalf("demo IdP: %d\n%s", resp.StatusCode, page)
		}
		action, fields := b.form(s.BaseURL, page)
		fields.Set("username", "bob")
		fields.Set("password", demo.Password)
		resp, page = b.post(action, fields)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("demo IdP login: %d\n%s", resp.StatusCode, page)
		}
		acs, post := b.form(s.BaseURL, page)
		acsResp, _ := b.post(acs, post)
		w := b.landOnDesktop(s, acsResp)
		if w.Sub != "bob" || w.Name != "Bob Supervisor" || w.Email != "bob@example.com" || len(w.Roles) != 2 {
			t.Errorf("whoami = %+v", w)
		}
		// The same response again is refused (the login it answered is
		// over: its cookie is gone).
		if again, _ := b.post(acs, post); again.StatusCode < 400 {
			t.Errorf("replayed response: %d, want a refusal", again.StatusCode)
		}
	})

	t.Run("IdP-initiated", func(t *testing.T) {
		b := newBrowser(t)
		resp, page := b.get(s.BaseURL + demo.IdPInitiatedPath + "?user=alice")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("IdP-initiated: %d\n%s", resp.StatusCode, page)
		}
		acs, post := b.form(s.BaseURL, page)
		acsResp, _ := b.post(acs, post)
		w := b.landOnDesktop(s, acsResp)
		if w.Sub != "alice" || len(w.Roles) != 1 || w.Roles[0] != "agent" {
			t.Errorf("whoami = %+v", w)
		}
		// An unsolicited response has no login cookie to lose: posting it
		// again reaches the one-time-use check.
		if again, _ := b.post(acs, post); again.StatusCode != http.StatusConflict || again.Header.Get("X-Samlflex-Error") != "assertion_replayed" {
			t.Errorf("replayed response: %d %s, want 409 assertion_replayed", again.StatusCode, again.Header.Get("X-Samlflex-Error"))
		}
	})

	t.Run("start page and health", func(t *testing.T) {
		b := newBrowser(t)
		if resp, _ := b.get(s.BaseURL + "/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != demo.IndexPath {
			t.Errorf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, page := b.get(s.BaseURL + demo.IndexPath); resp.StatusCode != http.StatusOK || !strings.Contains(page, s.LoginURL) {
			t.Errorf("start page: %d", resp.StatusCode)
		}
		if resp, body := b.get(s.BaseURL + "/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
			t.Errorf("healthz: %d %q", resp.StatusCode, body)
		}
	})
}

// TestDevRestart: a second start on the same data directory (another
// port) updates the demo account and keeps the keys, and logins work.
func TestDevRestart(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	run := func() serving {
		// Each start runs in its own subtest so that its cleanup (cancel
		// and wait) ends it before the next one opens the store.
		var s serving
		t.Run("start", func(t *testing.T) {
			s, _ = startServer(t, nil, "dev", "--addr", "127.0.0.1:0", "--data", data)
			b := newBrowser(t)
			resp, page := b.get(s.BaseURL + demo.IdPInitiatedPath + "?user=carol")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("IdP-initiated: %d", resp.StatusCode)
			}
			acs, post := b.form(s.BaseURL, page)
			acsResp, _ := b.post(acs, post)
			if w := b.landOnDesktop(s, acsResp); w.Sub != "carol" {
				t.Errorf("whoami = %+v", w)
			}
		})
		return s
	}
	s1, s2 := run(), run()
	if s1.BaseURL == s2.BaseURL {
		t.Logf("both starts got port %s; the account update is still exercised", s1.Addr)
	}
	got := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", demoAccountSID, "--output", "json").stdout)
	if got.IdPSSOURL != s2.BaseURL+demo.IdPSSOPath || got.StartURL != s2.BaseURL+demo.DesktopPath || got.Version != 2 {
		t.Errorf("demo account after restart: %+v", got)
	}
}

func TestDevRefusesNetworkAddress(t *testing.T) {
	t.Parallel()
	r := mustCLI(t, exitUsage, nil, "dev", "--addr", "0.0.0.0:0", "--data", t.TempDir())
	if !strings.Contains(r.stderr, "not a loopback address") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestDevPortInUse(t *testing.T) {
	t.Parallel()
	s, _ := startServer(t, nil, "dev", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "a"))
	r := mustCLI(t, exitFailure, nil, "dev", "--addr", s.Addr, "--data", filepath.Join(t.TempDir(), "b"))
	if !strings.Contains(r.stderr, "cannot listen on") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// TestServeSmoke: serve answers health, JWKS and the error page, needs a
// base URL off loopback, and stops cleanly.
func TestServeSmoke(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s, _ := startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
	if s.BaseURL != "http://"+s.Addr {
		t.Errorf("base URL %q, want http://%s", s.BaseURL, s.Addr)
	}
	b := newBrowser(t)
	if resp, body := b.get(s.BaseURL + "/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	if resp, body := b.get(s.BaseURL + "/.well-known/jwks.json"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"keys"`) {
		t.Errorf("jwks: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.get(s.BaseURL + "/v1/Accounts/" + sidA + "/saml2/metadata"); resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Samlflex-Error") != "unknown_account" {
		t.Errorf("unknown account metadata: %d %s", resp.StatusCode, resp.Header.Get("X-Samlflex-Error"))
	}
	if resp, _ := b.get(s.BaseURL + demo.IndexPath); resp.StatusCode != http.StatusNotFound {
		t.Errorf("serve has the demo: %d", resp.StatusCode)
	}
	// The embedded store is shared: account commands work while serve runs
	// (TestAccountWhileServing goes further).
	if r := cli(t, nil, "account", "list", "--data", data); r.code != exitOK {
		t.Errorf("account list during serve: %d %s", r.code, r.stderr)
	}
}

func TestServeFlags(t *testing.T) {
	t.Parallel()
	tests := []usageCase{
		{"network address without base URL", nil, []string{"serve", "--addr", "0.0.0.0:0"}, exitUsage, "--base-url is required"},
		{"bad base URL", nil, []string{"serve", "--base-url", "ftp://x"}, exitUsage, "--base-url"},
		{"bad log level", map[string]string{"SAMLFLEX_LOG_LEVEL": "loud"}, []string{"serve", "--addr", "127.0.0.1:0"}, exitUsage, "SAMLFLEX_LOG_LEVEL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustCLI(t, tc.wantCode, tc.env, append(tc.args, "--data", t.TempDir())...)
			if !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.wantErr)
			}
		})
	}
}
