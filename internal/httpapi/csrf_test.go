package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// bounceCookie returns the login cookie that a bounce set, opened.
func bounceCookie(t *testing.T, e *env, resp *http.Response) session.LoginState {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == loginCookie && c.MaxAge > 0 {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteNoneMode || c.Path != "/" {
				t.Fatalf("cookie attributes %+v", c)
			}
			st, err := new(session.LoginKeys).Open(e.set.ByKid, c.Value, sid, now)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	}
	t.Fatalf("no login cookie set: %v", resp.Header["Set-Cookie"])
	return session.LoginState{}
}

// TestUnsolicitedBounces: by default an unsolicited response (App
// Launcher, or an attacker's own response posted into a victim's browser:
// login CSRF) yields no token; samlflex starts a login of its own instead.
func TestUnsolicitedBounces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		relay     string
		cookie    func(t *testing.T, e *env) *http.Cookie
		wantRelay string
	}{
		{"no cookie", "", nil, ""},
		{"allowlisted RelayState is kept", altURL, nil, altURL},
		{"other RelayState is dropped", "https://evil.example/steal", nil, ""},
		// A login link started in this browser does not make an
		// unsolicited response this browser's.
		{"login cookie present", "", func(t *testing.T, e *env) *http.Cookie { return e.cookie(t, sid, goldenReqID, now.Add(time.Minute)) }, ""},
		// A bounce long ago was abandoned, not a loop.
		{"old bounce", "", func(t *testing.T, e *env) *http.Cookie {
			return e.sealed(t, session.LoginState{RequestID: "_x", Bounced: now.Add(-session.BounceWindow).Unix()})
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			var c *http.Cookie
			if tc.cookie != nil {
				c = tc.cookie(t, e)
			}
			resp := e.do(acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), tc.relay, c))
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || loc.Host != "acme.my.salesforce.com" || loc.Query().Get("SAMLRequest") == "" ||
				loc.Query().Get("RelayState") != "" || strings.Contains(loc.String(), "token") {
				t.Fatalf("status %d location %s", resp.StatusCode, loc)
			}
			st := bounceCookie(t, e, resp)
			if st.Bounced != now.Unix() || st.Relay != tc.wantRelay || !strings.HasPrefix(st.RequestID, "_samlflex_") || st.RequestID == goldenReqID {
				t.Fatalf("cookie state %+v", st)
			}
			if strings.Contains(e.logs.String(), `"msg":"login"`) || !strings.Contains(e.logs.String(), `"msg":"idp_initiated_bounce"`) {
				t.Fatalf("logs:\n%s", e.logs.String())
			}
		})
	}
}

// TestBounceDoesNotBurnTheAssertion: the bounce grants nothing, so it
// records nothing: the same response bounces again, and is still good
// once if the admin switches to accept.
func TestBounceDoesNotBurnTheAssertion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for range 2 {
		if resp := e.do(acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", nil)); resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "token=") {
			t.Fatalf("bounce: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	a, err := e.st.Get(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	a.IdPInitiated = samlflex.IdPInitiatedAccept
	if _, err := e.st.Put(context.Background(), a, a.Version, now); err != nil {
		t.Fatal(err)
	}
	if resp := e.do(acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", nil)); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), startURL+"#token=") {
		t.Fatalf("accept after bounces: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestBounceLoop: an IdP that answers the bounce's AuthnRequest with yet
// another unsolicited response gets a page naming the setting, never an
// endless redirect.
func TestBounceLoop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.sealed(t, session.LoginState{RequestID: "_samlflex_bounce", Bounced: now.Add(-5 * time.Second).Unix()})
	resp := e.do(acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", c))
	page := wantError(t, resp, http.StatusForbidden, samlflex.CodeIdPInitiatedLoop)
	if !strings.Contains(page, "idp_initiated") || resp.Header.Get("Location") != "" {
		t.Fatalf("page:\n%s", page)
	}
	var cleared bool
	for _, ck := range resp.Cookies() {
		cleared = cleared || (ck.Name == loginCookie && ck.MaxAge < 0)
	}
	if !cleared {
		t.Fatal("login cookie not cleared after the loop")
	}
}

// TestBounceAnswered: the IdP's answer to the bounce logs in and goes to
// the RelayState the unsolicited response carried (kept in the cookie);
// a RelayState in the answer itself wins, if allowlisted.
func TestBounceAnswered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, cookieRelay, postRelay, want string }{
		{"kept RelayState", altURL, "", altURL},
		{"none kept", "", "", startURL},
		{"answer's RelayState", altURL, startURL, startURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			c := e.sealed(t, session.LoginState{RequestID: goldenReqID, Bounced: now.Add(-5 * time.Second).Unix(), Relay: tc.cookieRelay})
			resp := e.do(acsPost(t, samlflextest.Golden(t, "response-signed.b64"), tc.postRelay, c))
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), tc.want+"#token=") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// TestIdPInitiatedModes: accept logs in directly (unsafe, explicit);
// refuse refuses.
func TestIdPInitiatedModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(a *samlflex.Account) { a.IdPInitiated = samlflex.IdPInitiatedAccept })
	if resp := e.do(acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", nil)); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), startURL+"#token=") {
		t.Fatalf("accept: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	e = newEnv(t, func(a *samlflex.Account) { a.IdPInitiated = samlflex.IdPInitiatedRefuse })
	wantError(t, e.do(acsPost(t, samlflextest.Golden(t, "unsolicited.b64"), "", nil)), http.StatusForbidden, samlflex.CodeUnsolicitedNotAllowed)
}

// TestLegacyLoginCookie: the pre-__Host- cookie (samlflex_login) is not
// read, even alone: anyone can get a sealed value from the login link and
// plant it without the prefix (a sibling subdomain, plain http), which
// would bind the victim's browser to the attacker's login. It is cleared at
// its own path.
func TestLegacyLoginCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.cookie(t, sid, goldenReqID, now.Add(time.Minute))
	c.Name = legacyLoginCookie
	resp := e.do(acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", c))
	wantError(t, resp, http.StatusForbidden, samlflex.CodeUnknownRequest)
	var cleared bool
	for _, ck := range resp.Cookies() {
		cleared = cleared || (ck.Name == legacyLoginCookie && ck.MaxAge < 0 && ck.Path == cookiePath(sid))
	}
	if !cleared {
		t.Fatalf("legacy cookie not cleared: %v", resp.Header["Set-Cookie"])
	}
	// The control: the same value under the __Host- name logs in.
	c.Name = loginCookie
	if resp := e.do(acsPost(t, samlflextest.Golden(t, "response-signed.b64"), "", c)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("__Host- cookie: %d %s", resp.StatusCode, resp.Header.Get("X-Samlflex-Error"))
	}
}
