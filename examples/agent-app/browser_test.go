// Package agentapp_test runs the example agent app (examples/agent-app,
// built by `npm ci && npm run build`) in headless Chromium and checks that
// it hands the Flex token from #token to the Flex SDK, which then presents
// it to Twilio. The SDK is the real one; only its network traffic is
// stubbed, with the DevTools Fetch domain, because Twilio cannot be reached
// here. With CI=true a missing build or browser fails instead of skipping.
package agentapp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/samlflex/samlflex/internal/samlflextest/chrometest"
)

const testTimeout = 60 * time.Second

func requireOrSkip(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// serveDist serves the built app on 127.0.0.1.
func serveDist(t *testing.T) string {
	t.Helper()
	dist, err := filepath.Abs("dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dist, "vendor", "flex-sdk", "index.browser.js")); err != nil {
		requireOrSkip(t, "examples/agent-app is not built: run `npm ci && npm run build` there (scripts/test.sh does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(dist)))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		exe, _ = exec.LookPath("chromium")
	}
	if exe == "" {
		requireOrSkip(t, "chromium not found (set CHROMIUM, or on Debian: apt-get install chromium)")
	}
	_, ctx := chrometest.Start(t, chrometest.Options(t, exe), testTimeout, func() string { return exe })
	return ctx
}

// sdkRequest is one request the page sent to a host other than the app's.
type sdkRequest struct {
	Method, URL string
	Header      http.Header
	Body        string
}

// twilioStub answers every request to another host than the app's, as
// Twilio would for a token it does not accept: CORS preflights are allowed
// (the SDK's own requests must get through to be seen), the account
// configuration and session reads succeed, and the token validation
// (Tokens/Info) answers 401 with Twilio's 20003. It records what it saw.
type twilioStub struct {
	app  string
	mu   sync.Mutex
	reqs []sdkRequest
}

func (s *twilioStub) run(ctx context.Context, t *testing.T) {
	t.Helper()
	// Listen registers before it returns, so no request is missed; it
	// only queues the events (it must not block), and one goroutine answers
	// them until the test ends. The cleanup stops it and waits, so that
	// nothing touches the browser afterwards.
	evCtx, cancel := context.WithCancel(ctx)
	events := make(chan *fetch.EventRequestPaused, 1024)
	err := chromedp.Listen(evCtx, func(e any) {
		if ev, ok := e.(*fetch.EventRequestPaused); ok {
			select {
			case events <- ev:
			default: // the page is stuck anyway; the test times out
			}
		}
	})
	if err != nil {
		cancel()
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		for {
			var ev *fetch.EventRequestPaused
			select {
			case <-evCtx.Done():
				return
			case ev = <-events:
			}
			if strings.HasPrefix(ev.Request.URL, s.app+"/") {
				_, _ = chromedp.Call(evCtx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			r := sdkRequest{Method: ev.Request.Method, URL: ev.Request.URL, Header: http.Header{}}
			for k, v := range ev.Request.Headers {
				if sv, ok := v.(string); ok {
					r.Header.Set(k, sv)
				}
			}
			for _, e := range ev.Request.PostDataEntries {
				r.Body += string(e.Bytes)
			}
			s.mu.Lock()
			s.reqs = append(s.reqs, r)
			s.mu.Unlock()
			status, body := s.answer(r)
			_, _ = chromedp.Call(evCtx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: int64(status), Body: []byte(body),
				ResponseHeaders: []*fetch.HeaderEntry{
					{Name: "Content-Type", Value: "application/json"},
					{Name: "Access-Control-Allow-Origin", Value: s.app},
					{Name: "Access-Control-Allow-Headers", Value: "authorization, content-type, x-flex-jwe, x-flex-version"},
					{Name: "Access-Control-Allow-Methods", Value: "GET, POST, OPTIONS"},
				},
			})
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
}

func (s *twilioStub) answer(r sdkRequest) (int, string) {
	u, _ := url.Parse(r.URL)
	switch {
	case r.Method == http.MethodOptions:
		return http.StatusNoContent, ""
	case strings.HasSuffix(u.Path, "/v1/Configuration"):
		return http.StatusOK, `{"account_sid":"AC00000000000000000000000000000001","status":"ok",` +
			`"taskrouter_workspace_sid":"WS00000000000000000000000000000001"}`
	case strings.HasSuffix(u.Path, "/api/v1/Session"):
		return http.StatusOK, `{}`
	default:
		return http.StatusUnauthorized, `{"code":20003,"message":"Authenticate","status":401}`
	}
}

func (s *twilioStub) requests() []sdkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdkRequest(nil), s.reqs...)
}

type pageState struct {
	State  string `json:"state"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Text   string `json:"text"`
	URL    string `json:"url"`
}

func waitPage(ctx context.Context, t *testing.T) pageState {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`body[data-state="error"], body[data-state="signed-in"]`))); err != nil {
		t.Fatalf("the app never finished signing in or failing: %v", err)
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`({state: document.body.dataset.state,
  status: document.getElementById("status").textContent, error: document.getElementById("error").textContent,
  text: document.body.innerText, url: location.href})`))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return st
}

// TestTokenHandedToFlexSDK: the token in #token reaches Twilio through the
// SDK, in each of the ways the SDK presents it (basic auth, X-Flex-JWE,
// token validation), goes to Twilio hosts only, leaves the address bar,
// and Twilio's refusal is shown on the page without the token.
func TestTokenHandedToFlexSDK(t *testing.T) {
	app := serveDist(t)
	ctx := newBrowser(t)
	stub := &twilioStub{app: app}
	stub.run(ctx, t)
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := "flex-jwe-test." + hex.EncodeToString(raw)

	if err := chromedp.Do(ctx, chromedp.Navigate(app+"/#token="+token)); err != nil {
		t.Fatalf("open the app: %v", err)
	}
	st := waitPage(ctx, t)
	if st.State != "error" || !strings.Contains(st.Error, "Flex refused the sign-in") {
		t.Errorf("page = %+v, want Twilio's refusal shown", st)
	}
	if strings.Contains(st.URL, token) || strings.Contains(st.URL, "#") || strings.Contains(st.Text, token) {
		t.Errorf("token still in the address bar or the page: %+v", st)
	}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+token))
	var sawBasic, sawJWE, sawValidate bool
	for _, r := range stub.requests() {
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatalf("request URL %q: %v", r.URL, err)
		}
		carries := strings.Contains(r.URL, token) || strings.Contains(r.Body, token)
		for _, v := range r.Header {
			carries = carries || strings.Contains(strings.Join(v, ""), token) || strings.HasPrefix(strings.Join(v, ""), basic)
		}
		if carries && u.Hostname() != "twilio.com" && !strings.HasSuffix(u.Hostname(), ".twilio.com") {
			t.Errorf("the token went to %s, which is not Twilio", u.Hostname())
		}
		// The SDK 3.0.0 appends a ")" after the base64; compare the prefix.
		sawBasic = sawBasic || strings.HasPrefix(r.Header.Get("Authorization"), basic)
		sawJWE = sawJWE || r.Header.Get("X-Flex-Jwe") == token
		if strings.HasSuffix(u.Path, "/Tokens/Info") {
			form, _ := url.ParseQuery(r.Body)
			sawValidate = sawValidate || form.Get("Token") == token
		}
	}
	if !sawBasic || !sawJWE || !sawValidate {
		for _, r := range stub.requests() {
			t.Logf("%s %s", r.Method, r.URL)
		}
		t.Errorf("the SDK did not present the token: basic auth %v, X-Flex-JWE %v, Tokens/Info %v", sawBasic, sawJWE, sawValidate)
	}
}

// TestNoToken: without #token the app says what to do and the SDK is never
// started, so nothing goes to Twilio.
func TestNoToken(t *testing.T) {
	app := serveDist(t)
	ctx := newBrowser(t)
	stub := &twilioStub{app: app}
	stub.run(ctx, t)
	if err := chromedp.Do(ctx, chromedp.Navigate(app+"/")); err != nil {
		t.Fatalf("open the app: %v", err)
	}
	st := waitPage(ctx, t)
	if st.State != "error" || !strings.Contains(st.Error, "No Flex token") {
		t.Errorf("page = %+v", st)
	}
	for _, r := range stub.requests() {
		if r.Method != http.MethodOptions {
			t.Errorf("request without a token: %s %s", r.Method, r.URL)
		}
	}
}
