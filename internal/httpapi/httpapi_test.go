package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// The golden responses of pkg/samlflex/testdata name these (samlflextest).
const (
	base        = samlflextest.BaseURL
	sid         = samlflextest.AccountSID
	otherSID    = "AC00000000000000000000000000000001"
	goldenReqID = samlflextest.RequestID
	startURL    = samlflextest.StartURL
	altURL      = "https://flex.example.com/supervisor"
)

var now = samlflextest.Now

type env struct {
	srv  *Server
	st   *boltstore.Store
	set  *keys.Set
	logs *samlflextest.LogBuffer
}

func newEnv(t *testing.T, edit func(*samlflex.Account)) *env {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "samlflex.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := samlflextest.Account(t)
	a.AllowedRedirects = []string{altURL}
	if edit != nil {
		edit(&a)
	}
	if _, err := st.Put(context.Background(), a, 0, now); err != nil {
		t.Fatal(err)
	}
	set := &keys.Set{Current: samlflextest.KeyPair(t, keys.RSA2048, "samlflex test current"),
		Next: samlflextest.KeyPair(t, keys.P256, "samlflex test next")}
	logger, logs := samlflextest.NewLogger(nil)
	srv, err := New(Config{BaseURL: base, Store: st, Keys: samlflextest.StaticKeys{Set: set}, Now: samlflextest.Clock,
		Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, st: st, set: set, logs: logs}
}

func (e *env) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w.Result()
}

func (e *env) cookie(t *testing.T, account, rid string, exp time.Time) *http.Cookie {
	t.Helper()
	v, err := new(session.LoginKeys).Seal(e.set, session.LoginState{RequestID: rid, AccountSID: account, Expires: exp.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: loginCookie, Value: v}
}

// sealed returns a login cookie with st (account sid, one minute left
// unless set).
func (e *env) sealed(t *testing.T, st session.LoginState) *http.Cookie {
	t.Helper()
	if st.AccountSID == "" {
		st.AccountSID = sid
	}
	if st.Expires == 0 {
		st.Expires = now.Add(time.Minute).Unix()
	}
	v, err := new(session.LoginKeys).Seal(e.set, st)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: loginCookie, Value: v}
}

func acsPost(t *testing.T, samlResponse, relay string, c *http.Cookie) *http.Request {
	t.Helper()
	r := samlflextest.ACSPost(samlResponse, relay)
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

func wantError(t *testing.T, resp *http.Response, status int, code samlflex.Code) string {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || resp.Header.Get("X-Samlflex-Error") != string(code) {
		t.Fatalf("status %d code %q; want %d %s\n%s", resp.StatusCode, resp.Header.Get("X-Samlflex-Error"), status, code, body)
	}
	page := string(body)
	if !strings.Contains(page, string(code)) || !strings.Contains(page, resp.Header.Get("X-Request-Id")) || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("page lacks code or request id:\n%s", page)
	}
	if !strings.Contains(page, htmlEscape(samlflex.PublicMessage(code))) && code != samlflex.CodeStatusNotSuccess && code != samlflex.CodeUnknownRole && code != samlflex.CodeBadRequest {
		t.Fatalf("page lacks the public message of %s:\n%s", code, page)
	}
	if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", resp.Header)
	}
	return page
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;")
	return r.Replace(s)
}

func TestACSSuccessIssuesVerifiableToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := e.do(acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute))))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d %v", resp.StatusCode, resp.Header)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != startURL || loc.RawQuery != "" || !strings.HasPrefix(loc.Fragment, "token=") {
		t.Fatalf("location %s", loc)
	}
	token := strings.TrimPrefix(loc.Fragment, "token=")
	jwks := e.do(httptest.NewRequest(http.MethodGet, base+"/.well-known/jwks.json", nil))
	jwksBody, _ := io.ReadAll(jwks.Body)
	c, err := session.Verify(token, jwksBody, base, sid, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "jane.doe@acme.example" || c.Name != "Jane Doe" || c.Email != "jane.doe@acme.example" ||
		strings.Join(c.Roles, ",") != "agent,supervisor" || c.Expiry-c.IssuedAt != 3600 || c.ID == "" || c.AuthTime == 0 {
		t.Fatalf("claims %+v", c)
	}
	// The login cookie is cleared.
	var cleared bool
	for _, ck := range resp.Cookies() {
		cleared = cleared || (ck.Name == loginCookie && ck.MaxAge < 0)
	}
	if !cleared {
		t.Fatal("login cookie not cleared")
	}
	if !strings.Contains(e.logs.String(), `"msg":"login","request_id":"`+resp.Header.Get("X-Request-Id")+`"`) {
		t.Fatalf("login log line lacks the request id:\n%s", e.logs.String())
	}
	// Neither the token nor the NameID reaches the log.
	if logs := e.logs.String(); strings.Contains(logs, token[:40]) || strings.Contains(logs, "jane.doe@acme.example") || strings.Contains(logs, "SAMLResponse") {
		t.Fatalf("log leaks secrets:\n%s", logs)
	}
}

func TestACSRefusals(t *testing.T) {
	t.Parallel()
	off := false
	tests := []struct {
		name   string
		edit   func(*samlflex.Account)
		req    func(t *testing.T, e *env) *http.Request
		status int
		code   samlflex.Code
	}{
		{"solicited response without login cookie", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", nil)
		}, 403, samlflex.CodeUnknownRequest},
		{"forged login cookie is ignored", nil, func(t *testing.T, e *env) *http.Request {
			c := e.cookie(t, sid, goldenReqID, now.Add(time.Minute))
			c.Value = strings.Replace(c.Value, ".", ".A", 1)
			return acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", c)
		}, 403, samlflex.CodeUnknownRequest},
		{"login cookie of another account is ignored", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, otherSID, goldenReqID, now.Add(time.Minute)))
		}, 403, samlflex.CodeUnknownRequest},
		{"expired login cookie is ignored", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, sid, goldenReqID, now))
		}, 403, samlflex.CodeUnknownRequest},
		{"cookie for another login", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, sid, "_samlflex_other", now.Add(time.Minute)))
		}, 403, samlflex.CodeInResponseToMismatch},
		{"unsolicited refused", func(a *samlflex.Account) { a.AllowIdPInitiated = &off }, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", nil)
		}, 403, samlflex.CodeUnsolicitedNotAllowed},
		{"tampered response", nil, func(t *testing.T, e *env) *http.Request {
			x := strings.Replace(samlflextest.Golden(t, "response-signed.xml"), "agent, supervisor", "admin", 1)
			return acsPost(t, base64.StdEncoding.EncodeToString([]byte(x)), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute)))
		}, 403, samlflex.CodeSignatureInvalid},
		{"IdP status", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "status-denied.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute)))
		}, 403, samlflex.CodeStatusNotSuccess},
		{"no roles", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "no-roles.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute)))
		}, 403, samlflex.CodeNoRoles},
		{"Flex connection without a provisioner", func(a *samlflex.Account) {
			a.IdPInitiated = samlflex.IdPInitiatedAccept
			a.Flex = &samlflex.FlexConnection{InstanceSID: "GO0123456789abcdef0123456789abcdef", APIKeySID: "SK0123456789abcdef0123456789abcdef"}
		}, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", nil)
		}, 500, samlflex.CodeInvalidConfig},
		{"missing SAMLResponse", nil, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, "", "x", nil)
		}, 400, samlflex.CodeBadRequest},
		{"body over the cap", func(a *samlflex.Account) { a.MaxResponseBytes = 1000 }, func(t *testing.T, e *env) *http.Request {
			return acsPost(t, strings.Repeat("A", 10000), "", nil)
		}, 413, samlflex.CodeResponseTooLarge},
		{"unknown account", nil, func(t *testing.T, e *env) *http.Request {
			return httptest.NewRequest(http.MethodPost, base+"/v1/Accounts/"+otherSID+"/saml2", strings.NewReader("SAMLResponse=x"))
		}, 404, samlflex.CodeUnknownAccount},
		{"malformed account SID", nil, func(t *testing.T, e *env) *http.Request {
			return httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/ACxyz/saml2/metadata", nil)
		}, 404, samlflex.CodeUnknownAccount},
		{"GET on the ACS", nil, func(t *testing.T, e *env) *http.Request {
			return httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2", nil)
		}, 405, samlflex.CodeMethodNotAllowed},
		{"POST on metadata", nil, func(t *testing.T, e *env) *http.Request {
			return httptest.NewRequest(http.MethodPost, base+"/v1/Accounts/"+sid+"/saml2/metadata", nil)
		}, 405, samlflex.CodeMethodNotAllowed},
		{"no such route", nil, func(t *testing.T, e *env) *http.Request {
			return httptest.NewRequest(http.MethodGet, base+"/admin", nil)
		}, 404, samlflex.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.edit)
			page := wantError(t, e.do(tc.req(t, e)), tc.status, tc.code)
			// The page never shows the log detail.
			if strings.Contains(page, "InResponseTo") || strings.Contains(page, "crypto/rsa") {
				t.Fatalf("page leaks detail:\n%s", page)
			}
		})
	}
}

func TestACSReplayAndRelayState(t *testing.T) {
	t.Parallel()
	accept := func(a *samlflex.Account) { a.IdPInitiated = samlflex.IdPInitiatedAccept }
	e := newEnv(t, accept)
	unsolicited := samlflextest.Golden(t, "unsolicited.b64")
	resp := e.do(acsPost(t, unsolicited, altURL, nil))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), altURL+"#token=") {
		t.Fatalf("allowlisted RelayState: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	wantError(t, e.do(acsPost(t, unsolicited, altURL, nil)), http.StatusConflict, samlflex.CodeAssertionReplayed)

	// A RelayState that is not allowlisted is ignored, never followed.
	e2 := newEnv(t, accept)
	resp = e2.do(acsPost(t, unsolicited, "https://evil.example/steal", nil))
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, startURL+"#token=") {
		t.Fatalf("open redirect: %s", loc)
	}
}

// TestACSConcurrentReplay posts one valid response 50 times at once: the
// conditional write lets exactly one through.
func TestACSConcurrentReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := samlflextest.Golden(t, "response-signed.b64")
	c := e.cookie(t, sid, goldenReqID, now.Add(time.Minute))
	var wg sync.WaitGroup
	codes := make(chan string, 50)
	for range 50 {
		wg.Go(func() {
			r := e.do(acsPost(t, resp, "", c))
			if r.StatusCode == http.StatusSeeOther {
				codes <- "ok"
				return
			}
			codes <- r.Header.Get("X-Samlflex-Error")
		})
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	if count["ok"] != 1 || count[string(samlflex.CodeAssertionReplayed)] != 49 {
		t.Fatalf("got %v", count)
	}
}

type failingStore struct {
	*boltstore.Store
}

func (failingStore) MarkUsed(context.Context, string, time.Time, time.Time) error {
	return errors.Join(store.ErrUnavailable, errors.New("connection refused"))
}

func (f failingStore) MarkUsedDeferred(ctx context.Context, key string, exp, now time.Time) error {
	return f.MarkUsed(ctx, key, exp, now)
}

// TestACSFailsClosed: without the one-time-use check nobody gets in.
func TestACSFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, err := New(Config{BaseURL: base, Store: failingStore{e.st}, Keys: samlflextest.StaticKeys{Set: e.set}, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute))))
	wantError(t, w.Result(), http.StatusServiceUnavailable, samlflex.CodeStoreUnavailable)
}

func TestLoginLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(a *samlflex.Account) { a.SignAuthnRequests = true })
	resp := e.do(httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2/login?RelayState="+url.QueryEscape(altURL), nil))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if loc.Host != "acme.my.salesforce.com" || q.Get("SAMLRequest") == "" || q.Get("RelayState") != altURL || q.Get("Signature") == "" || q.Get("SigAlg") == "" {
		t.Fatalf("location %s", loc)
	}
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == loginCookie {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteNoneMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 600 ||
		!strings.HasPrefix(c.Name, "__Host-") {
		t.Fatalf("cookie %+v", c)
	}
	st, err := new(session.LoginKeys).Open(e.set.ByKid, c.Value, sid, now)
	if err != nil || !strings.HasPrefix(st.RequestID, "_samlflex_") || st.Bounced != 0 {
		t.Fatalf("cookie does not carry the request ID: %+v %v", st, err)
	}
	// The cookie survives a key rotation (previous still verifies) and
	// dies with an unrelated key, even one that claims the right kid.
	rotated := &keys.Set{Previous: e.set.Current, Current: e.set.Next}
	if _, err := new(session.LoginKeys).Open(rotated.ByKid, c.Value, sid, now); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if _, err := new(session.LoginKeys).Open((&keys.Set{Current: e.set.Next}).ByKid, c.Value, sid, now); err == nil {
		t.Fatal("cookie verified without its key")
	}
	impostor := func(string) *keys.Pair { return e.set.Next }
	if _, err := new(session.LoginKeys).Open(impostor, c.Value, sid, now); err == nil {
		t.Fatal("cookie verified with another key under its kid")
	}
	wantError(t, e.do(httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2/login?RelayState="+strings.Repeat("x", 81), nil)), 400, samlflex.CodeBadRequest)
}

func TestMetadataJWKSHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := e.do(httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2/metadata", nil))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" || resp.Header.Get("ETag") == "" {
		t.Fatalf("metadata %d %v", resp.StatusCode, resp.Header)
	}
	if !bytes.Contains(body, []byte(`entityID="`+base+"/v1/Accounts/"+sid+`/saml2/metadata"`)) || bytes.Count(body, []byte("<X509Certificate>")) != 2 {
		t.Fatalf("metadata body:\n%s", body)
	}
	r := httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2/metadata", nil)
	r.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp := e.do(r); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	resp = e.do(httptest.NewRequest(http.MethodGet, base+"/.well-known/jwks.json", nil))
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(e.set.Current.Kid)) || !bytes.Contains(body, []byte(e.set.Next.Kid)) {
		t.Fatalf("jwks %s", body)
	}
	if resp := e.do(httptest.NewRequest(http.MethodGet, base+"/healthz", nil)); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	// A client cannot choose the request id outside Lambda.
	r = httptest.NewRequest(http.MethodGet, base+"/healthz", nil)
	r.Header.Set("X-Request-Id", "chosen-by-client")
	if got := e.do(r).Header.Get("X-Request-Id"); got == "chosen-by-client" || got == "" {
		t.Fatalf("request id %q", got)
	}
}

// TestErrorPageEscapes: every value on the page is HTML-escaped.
func TestErrorPageEscapes(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	errorPage(&b, "T<", `<script>alert("x")</script>`, "c&", `"><img src=x>`)
	page := b.String()
	for _, raw := range []string{"<script>", `"><img`, "T<", "c&<"} {
		if strings.Contains(page, raw) {
			t.Fatalf("unescaped %q in:\n%s", raw, page)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;") || !strings.Contains(page, "c&amp;") {
		t.Fatalf("page:\n%s", page)
	}
}

// refreshingKeys serves a stale set until asked for an unknown kid, like
// smkeys does for an instance that has not seen a rotation yet.
type refreshingKeys struct {
	stale, fresh *keys.Set
	refreshed    int
}

func (k *refreshingKeys) Keys(context.Context) (*keys.Set, error) { return k.stale, nil }

func (k *refreshingKeys) KeyForKid(_ context.Context, kid string) (*keys.Pair, error) {
	k.refreshed++
	if p := k.fresh.ByKid(kid); p != nil {
		return p, nil
	}
	return nil, errors.New("unknown kid")
}

// TestLoginCookieAcrossRotation: the login link ran on an instance that
// already had the rotated keys; the ACS post lands on one that still
// caches the old set. The unknown kid refreshes the keys once and the
// login goes through.
func TestLoginCookieAcrossRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	newCur, _ := keys.Generate(keys.P256, now.Add(-time.Hour), 48*time.Hour, "new", rand.Reader)
	fresh := &keys.Set{Previous: e.set.Current, Current: newCur}
	c := e.cookie(t, sid, goldenReqID, now.Add(time.Minute)) // sealed with e.set.Current
	v, err := new(session.LoginKeys).Seal(fresh, session.LoginState{RequestID: goldenReqID, AccountSID: sid, Expires: now.Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	c.Value = v // sealed with the new current key, unknown to the stale set
	ks := &refreshingKeys{stale: e.set, fresh: fresh}
	srv, err := New(Config{BaseURL: base, Store: e.st, Keys: ks, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", c))
	if w.Code != http.StatusSeeOther || ks.refreshed != 1 {
		t.Fatalf("status %d %s, refreshed %d", w.Code, w.Header().Get("X-Samlflex-Error"), ks.refreshed)
	}
}
