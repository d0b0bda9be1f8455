package browser_test

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4/jwt"
)

// logInAtIdP fills the IdP's login form that the browser shows and sends it.
func logInAtIdP(ctx context.Context, t *testing.T) {
	t.Helper()
	do(ctx, t, "log in at the IdP",
		chromedp.SendKeys(chromedp.ID("username"), aliceUser),
		chromedp.SendKeys(chromedp.ID("password"), alicePassword),
		chromedp.Click(chromedp.ID("login")),
	)
}

// wantAlice checks that the browser shows alice logged in on the landing
// page, with the token in the fragment.
func wantAlice(t *testing.T, s *site, out outcome) {
	t.Helper()
	if out.Error != "" || out.Code != "" {
		t.Fatalf("login failed: landing error %q, samlflex code %q; page text:\n%s", out.Error, out.Code, out.Text)
	}
	if !strings.HasPrefix(out.URL, s.Landing.URL+"#token=") {
		t.Errorf("browser is at %.80s…, want the start URL with #token=", out.URL)
	}
	for _, f := range []struct{ name, got, want string }{
		{"identity", out.Identity, aliceUser},
		{"roles", out.Roles, "agent, supervisor"},
		{"full-name", out.FullName, aliceFullName},
		{"email", out.Email, aliceUser},
	} {
		if f.got != f.want {
			t.Errorf("landing page #%s = %q, want %q", f.name, f.got, f.want)
		}
	}
}

// wantAliceToken checks the claims of the one token that the landing page
// verified.
func wantAliceToken(t *testing.T, s *site) {
	t.Helper()
	verified := s.Landing.Verified()
	if len(verified) != 1 {
		t.Fatalf("landing page verified %d tokens, want 1", len(verified))
	}
	c := verified[0]
	if c.Subject != aliceUser || c.Issuer != s.BaseURL || !slices.Equal(c.Audience, jwt.Audience{s.SID}) {
		t.Errorf("sub, iss, aud = %q, %q, %q; want %q, %q, [%q]", c.Subject, c.Issuer, c.Audience, aliceUser, s.BaseURL, s.SID)
	}
	if !slices.Equal(c.Roles, []string{"agent", "supervisor"}) || c.Name != aliceFullName || c.Email != aliceUser {
		t.Errorf("roles, name, email = %q, %q, %q", c.Roles, c.Name, c.Email)
	}
	now := time.Now()
	if iat := c.IssuedAt.Time(); iat.Before(now.Add(-testTimeout)) || iat.After(now.Add(tokenLeeway)) {
		t.Errorf("iat = %v, want within this test (now %v)", iat, now)
	}
	if !c.Expiry.Time().After(now) {
		t.Errorf("exp = %v, want after now (%v)", c.Expiry.Time(), now)
	}
	if c.ID == "" {
		t.Error("jti is empty")
	}
	s.Landing.checkNoTokenLeak(t)
}

// wantLoginCookie checks the cookie that the login link set, before the
// IdP posts back: the ACS needs it on a cross-site POST, so it must be
// SameSite=None (hence Secure), and it is a bearer of the login, so it
// must be HttpOnly; the account SID inside it keeps it to one account.
func wantLoginCookie(t *testing.T, s *site, cookies []*network.Cookie) {
	t.Helper()
	if len(cookies) != 1 {
		t.Fatalf("after the login link the browser has %d cookies for samlflex, want 1 login cookie: %v", len(cookies), cookies)
	}
	c := cookies[0]
	if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteNone {
		t.Errorf("login cookie %s: HttpOnly %v, Secure %v, SameSite %q; want HttpOnly, Secure, SameSite=None", c.Name, c.HTTPOnly, c.Secure, c.SameSite)
	}
	// A __Host- cookie: Secure, for the whole host (Path=/, so a base URL
	// with a path prefix works), never for a sibling domain.
	if c.Name != "__Host-samlflex_login" || c.Path != "/" || c.Domain != "127.0.0.1" {
		t.Errorf("login cookie %s, path %q, domain %q; want __Host-samlflex_login, /, host-only", c.Name, c.Path, c.Domain)
	}
	if c.Session || c.Expires <= float64(time.Now().Unix()) {
		t.Errorf("login cookie expires %v (session %v), want a short Max-Age", c.Expires, c.Session)
	}
}

// TestSPInitiatedLogin is the login an agent does: the login link, the
// IdP's form, the IdP's cross-site POST to the ACS, the agent desktop.
func TestSPInitiatedLogin(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{idpInitiated: "refuse"})
	ctx := newBrowser(t)

	do(ctx, t, "open the login link", chromedp.Navigate(s.LoginURL))
	do(ctx, t, "wait for the IdP's login form", chromedp.WaitVisible(chromedp.ID("login")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(loc); err != nil || u.Scheme+"://"+u.Host+u.Path != s.IdP.SSOURL || u.Query().Get("SAMLRequest") == "" {
		t.Errorf("login link went to %.100s…, want the IdP's SSO URL with a SAMLRequest", loc)
	}
	wantLoginCookie(t, s, siteCookies(ctx, t))

	logInAtIdP(ctx, t)
	wantAlice(t, s, waitOutcome(ctx, t))
	wantAliceToken(t, s)
	if left := siteCookies(ctx, t); len(left) != 0 {
		t.Errorf("after the login the browser still has samlflex cookies: %v", left)
	}
}

// TestTamperedResponseRefused changes the signed Response in the browser,
// after the IdP signed it and before it reaches the ACS.
func TestTamperedResponseRefused(t *testing.T) {
	t.Parallel()
	sig := regexp.MustCompile(`(?s)<ds:Signature\b.*?</ds:Signature>`)
	for _, tc := range []struct {
		name     string
		edit     func(xml string) string
		wantCode string
	}{
		{
			name:     "name_id_changed",
			edit:     func(x string) string { return strings.Replace(x, ">"+aliceUser+"</", ">mallory@example.com</", 1) },
			wantCode: "signature_invalid",
		},
		{
			name:     "role_added",
			edit:     func(x string) string { return strings.Replace(x, ">supervisor, agent<", ">admin, agent<", 1) },
			wantCode: "signature_invalid",
		},
		{
			name:     "one_byte_in_assertion_id",
			edit:     flipAssertionIDByte,
			wantCode: "signature_invalid",
		},
		{
			name: "signature_removed",
			edit: func(x string) string {
				return sig.ReplaceAllString(strings.Replace(x, ">"+aliceUser+"</", ">mallory@example.com</", 1), "")
			},
			wantCode: "signature_missing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{idpInitiated: "refuse"})
			ctx := newBrowser(t)
			tap := tapACS(ctx, t, s.ACSURL)

			do(ctx, t, "open the login link", chromedp.Navigate(s.LoginURL))
			logInAtIdP(ctx, t)
			p := tap.Next()
			xml := samlResponseXML(t, p.Form)
			tampered := tc.edit(xml)
			if tampered == xml {
				t.Fatalf("edit changed nothing in the Response:\n%s", xml)
			}
			ans := tap.Send(p, withSAMLResponse(p.Form, tampered))
			wantRefused(t, ans, waitOutcome(ctx, t), tc.wantCode)
			if n := len(s.Landing.Verified()); n != 0 {
				t.Errorf("landing page verified %d tokens, want none", n)
			}
		})
	}
}

// flipAssertionIDByte changes one character of the Assertion's ID, which
// the Response signature covers like every other byte of the Assertion.
func flipAssertionIDByte(x string) string {
	i := strings.Index(x, ":Assertion ")
	if i < 0 {
		return x
	}
	j := strings.Index(x[i:], ` ID="`)
	if j < 0 {
		return x
	}
	k := i + j + len(` ID="`) + 1 // the second character: the first is "_"
	b := []byte(x)
	if b[k] == 'a' {
		b[k] = 'b'
	} else {
		b[k] = 'a'
	}
	return string(b)
}

// TestReplayRefused posts a Response that already logged someone in again,
// from the browser. The second use is refused whether or not the browser
// still holds the login cookie.
func TestReplayRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// idpInitiated logs in from the IdP (the Response has no
		// InResponseTo); otherwise from the login link.
		idpInitiated bool
		// restoreCookie puts the login cookie back before the replay, as
		// an attacker who copied it along with the Response would.
		restoreCookie bool
		wantCode      string
	}{
		{name: "idp_initiated", idpInitiated: true, wantCode: "assertion_replayed"},
		{name: "sp_initiated_with_login_cookie", restoreCookie: true, wantCode: "assertion_replayed"},
		// The login cookie is single-use, so a replay without it (the
		// Back button) is refused before the one-time-use check.
		{name: "sp_initiated_without_login_cookie", wantCode: "unknown_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{idpInitiated: map[bool]string{true: "accept", false: "refuse"}[tc.idpInitiated]})
			ctx := newBrowser(t)
			tap := tapACS(ctx, t, s.ACSURL)

			if tc.idpInitiated {
				do(ctx, t, "open the IdP's login page", chromedp.Navigate(s.IdP.BaseURL+"/idp-initiated"))
			} else {
				do(ctx, t, "open the login link", chromedp.Navigate(s.LoginURL))
			}
			cookies := siteCookies(ctx, t)
			logInAtIdP(ctx, t)
			first := tap.Next()
			if ans := tap.Send(first, first.Form); ans.Status != 303 {
				t.Fatalf("first POST: ACS answered %d (X-Samlflex-Error %q), want 303", ans.Status, ans.Header.Get("X-Samlflex-Error"))
			}
			wantAlice(t, s, waitOutcome(ctx, t))

			if tc.restoreCookie {
				if len(cookies) == 0 {
					t.Fatal("the login link set no cookie to restore")
				}
				setCookies(ctx, t, cookies)
			}
			postFromPage(ctx, t, s.ACSURL, first.Form)
			again := tap.Next()
			if again.Form.Get("SAMLResponse") != first.Form.Get("SAMLResponse") {
				t.Fatal("the replayed POST carries another SAMLResponse")
			}
			wantRefused(t, tap.Send(again, again.Form), waitOutcome(ctx, t), tc.wantCode)
			if n := len(s.Landing.Verified()); n != 1 {
				t.Errorf("landing page verified %d tokens, want 1 (the first login only)", n)
			}
		})
	}
}

// TestIdPInitiatedLogin logs in from the IdP (Salesforce's App Launcher):
// an unsolicited Response. By default samlflex answers it with a login
// request of its own, which the IdP session answers without a form: the
// agent lands in the desktop as before, with a token that answers a login
// this browser started. accept logs in directly; refuse refuses.
func TestIdPInitiatedLogin(t *testing.T) {
	t.Parallel()
	t.Run("bounce", func(t *testing.T) {
		t.Parallel()
		s := newSite(t, siteOptions{})
		ctx := newBrowser(t)
		tap := tapACS(ctx, t, s.ACSURL)
		do(ctx, t, "open the IdP's login page", chromedp.Navigate(s.IdP.BaseURL+"/idp-initiated"))
		logInAtIdP(ctx, t)
		first := tap.Next()
		if xml := samlResponseXML(t, first.Form); strings.Contains(xml, "InResponseTo") {
			t.Fatal("the App Launcher's Response answers a request")
		}
		ans := tap.Send(first, first.Form)
		if loc := ans.Header.Get("Location"); ans.Status != 303 || !strings.HasPrefix(loc, s.IdP.SSOURL+"?SAMLRequest=") {
			t.Fatalf("unsolicited Response: ACS answered %d to %.80s (X-Samlflex-Error %q), want 303 to the IdP", ans.Status, loc, ans.Header.Get("X-Samlflex-Error"))
		}
		second := tap.Next()
		if xml := samlResponseXML(t, second.Form); !strings.Contains(xml, "InResponseTo=") {
			t.Fatal("the IdP's answer to the bounce answers no request")
		}
		if ans := tap.Send(second, second.Form); ans.Status != 303 {
			t.Fatalf("answer to the bounce: ACS answered %d (X-Samlflex-Error %q), want 303", ans.Status, ans.Header.Get("X-Samlflex-Error"))
		}
		wantAlice(t, s, waitOutcome(ctx, t))
		wantAliceToken(t, s)
		if left := siteCookies(ctx, t); len(left) != 0 {
			t.Errorf("after the login the browser still has samlflex cookies: %v", left)
		}
		if !strings.Contains(s.log.String(), `"msg":"idp_initiated_bounce"`) {
			t.Error("samlflex logged no bounce")
		}
	})
	t.Run("accept", func(t *testing.T) {
		t.Parallel()
		s := newSite(t, siteOptions{idpInitiated: "accept"})
		ctx := newBrowser(t)
		do(ctx, t, "open the IdP's login page", chromedp.Navigate(s.IdP.BaseURL+"/idp-initiated"))
		logInAtIdP(ctx, t)
		wantAlice(t, s, waitOutcome(ctx, t))
		wantAliceToken(t, s)
		if strings.Contains(s.log.String(), `"msg":"idp_initiated_bounce"`) {
			t.Error("accept bounced")
		}
	})
	t.Run("refuse", func(t *testing.T) {
		t.Parallel()
		s := newSite(t, siteOptions{idpInitiated: "refuse"})
		ctx := newBrowser(t)
		tap := tapACS(ctx, t, s.ACSURL)
		do(ctx, t, "open the IdP's login page", chromedp.Navigate(s.IdP.BaseURL+"/idp-initiated"))
		logInAtIdP(ctx, t)
		p := tap.Next()
		wantRefused(t, tap.Send(p, p.Form), waitOutcome(ctx, t), "unsolicited_not_allowed")
		if n := len(s.Landing.Verified()); n != 0 {
			t.Errorf("landing page verified %d tokens, want none", n)
		}
	})
}
