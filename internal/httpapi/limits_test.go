package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/acs"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// rawPost posts body as the form body to the ACS.
func rawPost(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, base+"/v1/Accounts/"+sid+"/saml2", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestSizeCaps: the cap applies to the decoded SAMLResponse value (as
// docs/security.md says), whatever URL-encoding did to it; the whole body has its
// own, higher cap. Both are tested at their edges.
func TestSizeCaps(t *testing.T) {
	t.Parallel()
	const max = 1000
	limit := int(BodyLimit(max))
	// '+' is a base64 character that a browser sends as %2B: the value
	// stays at the cap while the body triples.
	plus := func(n int) string { return url.Values{"SAMLResponse": {strings.Repeat("+", n)}}.Encode() }
	pad := func(prefix string, total int) string {
		p := prefix + "&RelayState="
		return p + strings.Repeat("x", total-len(p))
	}
	tests := []struct {
		name     string
		max      int // 0: the default
		body     string
		wantCode samlflex.Code
	}{
		{"value at the cap, body tripled", max, plus(max), samlflex.CodeMalformedResponse},
		{"value one over the cap", max, plus(max + 1), samlflex.CodeResponseTooLarge},
		{"body at its cap", max, pad("SAMLResponse="+strings.Repeat("A", max), limit), samlflex.CodeMalformedResponse},
		{"body one over its cap", max, pad("SAMLResponse="+strings.Repeat("A", max), limit+1), samlflex.CodeResponseTooLarge},
		// A regression: a 256,000-character response under the
		// default 256 KiB cap used to get 413 for its encoded body.
		{"256,000 characters, default cap", 0, plus(256000), samlflex.CodeMalformedResponse},
		{"default cap plus one", 0, "SAMLResponse=" + strings.Repeat("A", samlflex.DefaultMaxResponseBytes+1), samlflex.CodeResponseTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(a *samlflex.Account) { a.MaxResponseBytes = tc.max })
			status := map[samlflex.Code]int{samlflex.CodeMalformedResponse: 400, samlflex.CodeResponseTooLarge: 413}[tc.wantCode]
			wantError(t, e.do(rawPost(tc.body)), status, tc.wantCode)
		})
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLimiter(2, 1, 100*time.Millisecond)
	r1, err1 := l.acquire(ctx)
	r2, err2 := l.acquire(ctx)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// The third waits in the queue; a fourth finds it full at once.
	waited := make(chan error, 1)
	go func() {
		r, err := l.acquire(ctx)
		if err == nil {
			r()
		}
		waited <- err
	}()
	for l.waiting.Load() != 1 {
		runtime.Gosched()
	}
	if _, err := l.acquire(ctx); samlflex.CodeOf(err) != samlflex.CodeServerBusy || !strings.Contains(err.Error(), "waiting") {
		t.Fatalf("queue full: %v", err)
	}
	// The queued one gets the slot that is released.
	r1()
	r1() // a second release is a no-op
	if err := <-waited; err != nil {
		t.Fatalf("queued: %v", err)
	}
	// Past the wait: busy.
	r3, _ := l.acquire(ctx)
	if _, err := l.acquire(ctx); samlflex.CodeOf(err) != samlflex.CodeServerBusy || !strings.Contains(err.Error(), "within") {
		t.Fatalf("wait ran out: %v", err)
	}
	// A client that goes away stops waiting.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.acquire(cctx); samlflex.CodeOf(err) != samlflex.CodeServerBusy || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "client gone") {
		t.Fatalf("cancelled: %v", err)
	}
	r2()
	r3()
	if l.inFlight.Load() != 0 || l.peak.Load() != 2 || l.waiting.Load() != 0 {
		t.Fatalf("in flight %d peak %d waiting %d", l.inFlight.Load(), l.peak.Load(), l.waiting.Load())
	}
	var nilL *limiter
	if r, err := nilL.acquire(ctx); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
}

// fullServer returns a server for e with one admission slot, no queue,
// and that slot taken: release frees it.
func fullServer(t *testing.T, e *env) (*Server, func()) {
	t.Helper()
	srv, err := New(Config{BaseURL: base, Store: e.st, Keys: samlflextest.StaticKeys{Set: e.set}, Now: func() time.Time { return now },
		Logger: e.srv.cfg.Logger, ACSConcurrency: 1, ACSQueue: 0, ACSQueueWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	release, err := srv.limit.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return srv, release
}

// TestServerBusy: past the queue, the ACS answers 503 server_busy with
// Retry-After, before it validates anything.
func TestServerBusy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, release := fullServer(t, e)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute))))
	resp := w.Result()
	if resp.Header.Get("Retry-After") != retryAfter {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	wantError(t, resp, http.StatusServiceUnavailable, samlflex.CodeServerBusy)
	release()
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute))))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("after release: %d %s", w.Code, w.Header().Get("X-Samlflex-Error"))
	}
}

// TestLoginLinkAdmitted: the anonymous login link shares the ACS's
// admission limit: with the only slot taken and no queue it answers 503
// server_busy, and it works again once the slot is free.
func TestLoginLinkAdmitted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, release := fullServer(t, e)
	link := func() *http.Response {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, samlflextest.ACSURL+"/login", nil))
		return w.Result()
	}
	wantError(t, link(), http.StatusServiceUnavailable, samlflex.CodeServerBusy)
	release()
	if resp := link(); resp.StatusCode != http.StatusFound {
		t.Fatalf("after release: %d %s", resp.StatusCode, resp.Header.Get("X-Samlflex-Error"))
	}
}

// TestHostileBurstStaysWithinLimit: 8 expensive junk posts at once never
// have more validations in flight than the limit, and each still gets
// its refusal (they wait, they are not dropped).
func TestHostileBurstStaysWithinLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, err := New(Config{BaseURL: base, Store: e.st, Keys: samlflextest.StaticKeys{Set: e.set}, Now: func() time.Time { return now },
		Logger: e.srv.cfg.Logger, ACSConcurrency: 2, ACSQueue: 64, ACSQueueWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// About 40 KB of empty elements: costly to parse, refused unsigned.
	junk := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_j" Version="2.0" IssueInstant="2026-01-15T10:00:00Z">` +
		strings.Repeat("<a/>", 10000) + `</samlp:Response>`
	body := base64.StdEncoding.EncodeToString([]byte(junk))
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, acsPost(t, body, "", nil))
			codes <- w.Header().Get("X-Samlflex-Error")
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c == "" || c == string(samlflex.CodeServerBusy) {
			t.Errorf("junk post answered %q, want a refusal", c)
		}
	}
	if p := srv.limit.peak.Load(); p < 1 || p > 2 {
		t.Fatalf("peak in flight %d, want 1..2", p)
	}
}

// TestConcurrentValidLogins: 64 logins at once under serve's default
// limits all succeed. Not parallel, so that the package's other tests (the
// hostile burst above) do not share the CPUs: under -race a validation is
// about ten times slower than in production, where the queue drains in
// tens of milliseconds.
func TestConcurrentValidLogins(t *testing.T) {
	// serve's slots and queue; the queue wait is widened because this test
	// is about capacity (64 logins at once fit in the slots plus the queue,
	// none is turned away), not about the 3 s wait: under -race, with other
	// packages' tests on the same two CPUs, a validation is ten times slower
	// than in production and the default wait made this test flaky. The 503
	// past the wait has its own tests.
	slots, queue, _ := DefaultACSLimits(runtime.GOMAXPROCS(0))
	if slots+queue < 64 {
		t.Fatalf("default limits hold %d logins at once, want at least 64", slots+queue)
	}
	f := newFlow(t, "", nil, func(c *Config) {
		c.ACSConcurrency, c.ACSQueue, c.ACSQueueWait = slots, queue, time.Minute
	})
	type login struct {
		form   url.Values
		cookie *http.Cookie
	}
	logins := make([]login, 64)
	for i := range logins {
		id := fmt.Sprintf("_samlflex_concurrent_%02d", i)
		xml, err := f.idp.SignedResponse(f.user, id)
		if err != nil {
			t.Fatal(err)
		}
		v, err := new(session.LoginKeys).Seal(f.set, session.LoginState{RequestID: id, AccountSID: sid, Expires: now.Add(time.Minute).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		logins[i] = login{url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}}, &http.Cookie{Name: loginCookie, Value: v}}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	fails := make(chan string, len(logins))
	for _, l := range logins {
		wg.Go(func() {
			r, _ := http.NewRequest(http.MethodPost, f.acsURL(), strings.NewReader(l.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(l.cookie)
			<-start
			resp, err := f.ts.Client().Do(r)
			if err != nil {
				fails <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				fails <- resp.Header.Get("X-Samlflex-Error")
			}
		})
	}
	close(start)
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Errorf("login failed: %s", f)
	}
	if p, limit := f.srv.limit.peak.Load(), int64(f.cfg.ACSConcurrency); p > limit {
		t.Fatalf("peak %d over the limit %d", p, limit)
	}
}

// TestLogLinesBounded: a refused response with a 200 KB StatusMessage, a
// huge RelayState and a long path writes log lines of bounded size.
func TestLogLinesBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	huge := strings.Repeat("Ü", 100000)
	xml := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_s" Version="2.0" IssueInstant="2026-01-15T10:00:00Z">` +
		`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"/><samlp:StatusMessage>` + huge +
		`</samlp:StatusMessage></samlp:Status></samlp:Response>`
	e.do(acsPost(t, base64.StdEncoding.EncodeToString([]byte(xml)), huge, nil))
	e.do(httptest.NewRequest(http.MethodGet, base+"/"+strings.Repeat("p", 20000), nil))
	sc := bufio.NewScanner(bytes.NewReader(e.logs.Bytes()))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if n := len(sc.Bytes()); n > 2048 {
			t.Errorf("log line of %d bytes: %.300s…", n, sc.Text())
		}
	}
	if lines < 4 {
		t.Fatalf("%d log lines:\n%s", lines, e.logs.String())
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if acs.Clip("short") != "short" {
		t.Fatal("short text changed")
	}
	got := acs.ClipTo("aÜb", 2) // Ü is two bytes: never cut in the middle
	if got != "a…[3 more bytes]" {
		t.Fatalf("got %q", got)
	}
	if c := acs.Clip(strings.Repeat("x", 100000)); len(c) > acs.MaxLogText+32 || !strings.HasSuffix(c, "…[99744 more bytes]") {
		t.Fatalf("clip %d bytes: %q", len(c), c[len(c)-30:])
	}
}
