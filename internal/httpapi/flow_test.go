package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/demo"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// flow is samlflex behind a TLS server and a browser-like client with a
// cookie jar (which, like a browser, sends a Secure cookie over https only
// and only under its Path), with the demo IdP signing fresh responses. It
// drives whole logins through the handler.
type flow struct {
	srv    *Server
	ts     *httptest.Server
	client *http.Client
	idp    *demo.IdP
	user   demo.User
	base   string // samlflex's public base URL, with the prefix
	logs   *samlflextest.LogBuffer
	cfg    Config
	set    *keys.Set
}

// newFlow serves samlflex at prefix ("" or "/sso"): the proxy in front of
// it strips the prefix, as API Gateway's custom-domain mappings and
// reverse proxies do, so the handler sees /v1/... while the browser sees
// prefix+"/v1/...".
func newFlow(t *testing.T, prefix string, edit func(*samlflex.Account), conf func(*Config)) *flow {
	t.Helper()
	var api atomic.Pointer[http.Handler]
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*api.Load()).ServeHTTP(w, r) }))
	ts.StartTLS()
	t.Cleanup(ts.Close)
	f := &flow{ts: ts, base: ts.URL + prefix, logs: &samlflextest.LogBuffer{}}

	key, err := demo.GenerateIdPKey(now.Add(-time.Hour), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if f.idp, err = demo.NewIdP(demo.IdPConfig{BaseURL: f.base, AccountSID: sid, Key: key, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	f.user = f.idp.Users()[0]
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "samlflex.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := samlflex.Account{AccountSID: sid, FriendlyName: "Demo", IdPCertificates: []string{key.CertificatePEM()},
		IdPIssuer: f.idp.Issuer(), IdPSSOURL: f.idp.SSOURL(), StartURL: startURL, AllowedRedirects: []string{altURL}}
	if edit != nil {
		edit(&a)
	}
	if _, err := st.Put(context.Background(), a, 0, now); err != nil {
		t.Fatal(err)
	}
	cur, err := keys.Generate(keys.P256, now.Add(-time.Hour), 48*time.Hour, "flow", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.set = &keys.Set{Current: cur}
	f.cfg = Config{BaseURL: f.base, Store: st, Keys: samlflextest.StaticKeys{Set: f.set}, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil))}
	if conf != nil {
		conf(&f.cfg)
	}
	if f.srv, err = New(f.cfg); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = f.srv
	if prefix != "" {
		h = http.StripPrefix(prefix, f.srv)
	}
	api.Store(&h)

	jar, _ := cookiejar.New(nil)
	f.client = ts.Client()
	f.client.Jar = jar
	f.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return f
}

func (f *flow) loginURL() string { return f.base + "/v1/Accounts/" + sid + "/saml2/login" }
func (f *flow) acsURL() string   { return f.base + "/v1/Accounts/" + sid + "/saml2" }

// post sends the IdP's auto-post: a signed response for f.user answering
// inResponseTo ("" for an unsolicited one).
func (f *flow) post(t *testing.T, inResponseTo, relay string) *http.Response {
	t.Helper()
	xml, err := f.idp.SignedResponse(f.user, inResponseTo)
	if err != nil {
		t.Fatal(err)
	}
	return f.postRaw(t, base64.StdEncoding.EncodeToString(xml), relay)
}

func (f *flow) postRaw(t *testing.T, samlResponse, relay string) *http.Response {
	t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relay != "" {
		form.Set("RelayState", relay)
	}
	resp, err := f.client.PostForm(f.acsURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// toIdP checks that resp sends the browser to the IdP with an AuthnRequest
// and returns its ID.
func (f *flow) toIdP(t *testing.T, resp *http.Response) string {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || (resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther) ||
		loc.Scheme+"://"+loc.Host+loc.Path != f.idp.SSOURL() {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("want a redirect to the IdP, got %d %q (%s)\n%s", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Samlflex-Error"), body)
	}
	req, err := demo.ParseRedirectRequest(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	if req.ACSURL != f.acsURL() {
		t.Fatalf("AuthnRequest ACS URL %q, want %q", req.ACSURL, f.acsURL())
	}
	return req.ID
}

// token checks that resp lands on want with a token for f.user.
func (f *flow) token(t *testing.T, resp *http.Response, want string) session.Claims {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, want+"#token=") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("want a token at %s, got %d %q (%s)\n%s", want, resp.StatusCode, loc, resp.Header.Get("X-Samlflex-Error"), body)
	}
	jr, err := f.client.Get(f.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Body.Close()
	jwks, _ := io.ReadAll(jr.Body)
	c, err := session.Verify(strings.TrimPrefix(loc, want+"#token="), jwks, f.base, sid, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != f.user.Username {
		t.Fatalf("token for %q, want %q", c.Subject, f.user.Username)
	}
	return c
}

// loginCookie returns the browser's login cookie for the ACS URL, or nil.
func (f *flow) loginCookie(t *testing.T) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(f.acsURL())
	for _, c := range f.client.Jar.Cookies(u) {
		if c.Name == loginCookie {
			return c
		}
	}
	return nil
}

// TestPrefixedBaseURL: with a base URL that has a path prefix the browser
// still sends the login cookie to the ACS (it used to be scoped to
// /v1/..., which the browser never requests, so every SP-initiated login
// failed as unknown_request), and so does the App Launcher bounce.
func TestPrefixedBaseURL(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "/sso", "/a/b"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, prefix, nil, nil)
			resp, err := f.client.Get(f.loginURL() + "?RelayState=" + url.QueryEscape(altURL))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := f.toIdP(t, resp)
			if f.loginCookie(t) == nil {
				t.Fatal("the browser would not send the login cookie to the ACS")
			}
			f.token(t, f.post(t, id, altURL), altURL)
			if f.loginCookie(t) != nil {
				t.Fatal("login cookie not cleared after the login")
			}

			// App Launcher: unsolicited, bounced, answered, logged in.
			id = f.toIdP(t, f.post(t, "", altURL))
			f.token(t, f.post(t, id, ""), altURL)
		})
	}
}
