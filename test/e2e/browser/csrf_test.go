package browser_test

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

// attackerPage serves, on 127.0.0.2 (another site than samlflex on
// 127.0.0.1 and the IdP on localhost), a page that auto-posts form to its
// action: the attacker's own valid Response, as any web page can.
func attackerPage(t *testing.T, form samlidp.Form) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 for the attacker's site: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fields strings.Builder
		for name, values := range form.Values {
			for _, v := range values {
				fmt.Fprintf(&fields, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(name), html.EscapeString(v))
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Cute cats</title><form method="post" action="%s" id="f">%s</form>
<script>document.getElementById('f').submit();</script>`, html.EscapeString(form.Action), fields.String())
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/cats"
}

// TestLoginCSRF: the attacker (alice, a real user of the IdP) gets her own
// valid unsolicited Response and has a web page post it into the victim's
// browser. With the default settings that must not sign the victim in as
// alice: samlflex answers with a login request of its own, which the IdP
// answers for whoever is signed in there in this browser (bob), or not at
// all.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// victimSignedIn: the victim has an IdP session (as bob).
		victimSignedIn bool
	}{
		{name: "victim_signed_in_at_idp", victimSignedIn: true},
		{name: "victim_not_signed_in", victimSignedIn: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{})
			client := &http.Client{Timeout: httpTimeout}
			evil, err := samlidp.GetForm(t.Context(), client, s.IdP.IdPInitiatedURL(aliceUser, alicePassword, ""), "saml-post")
			if err != nil {
				t.Fatal(err)
			}
			if evil.Action != s.ACSURL || evil.Values.Get("SAMLResponse") == "" {
				t.Fatalf("attacker's form posts %v to %s", evil.Values, evil.Action)
			}
			page := attackerPage(t, evil)

			ctx := newBrowser(t)
			if tc.victimSignedIn {
				do(ctx, t, "bob signs in with the login link", chromedp.Navigate(s.LoginURL))
				do(ctx, t, "log in at the IdP as bob",
					chromedp.SendKeys(chromedp.ID("username"), bobUser),
					chromedp.SendKeys(chromedp.ID("password"), bobPassword),
					chromedp.Click(chromedp.ID("login")),
				)
				if out := waitOutcome(ctx, t); out.Identity != bobUser {
					t.Fatalf("bob's own login: landing shows %q (code %q)", out.Identity, out.Code)
				}
				do(ctx, t, "leave the desktop", chromedp.Navigate("about:blank"))
			}

			do(ctx, t, "visit the attacker's page", chromedp.Navigate(page))
			if tc.victimSignedIn {
				// The bounce reaches the IdP, which answers for bob.
				out := waitOutcome(ctx, t)
				if out.Identity != bobUser || out.Code != "" {
					t.Errorf("after the attack the browser shows identity %q (code %q), want bob's own session", out.Identity, out.Code)
				}
			} else {
				// The bounce reaches the IdP's login form: nobody is signed in.
				do(ctx, t, "wait for the IdP's login form", chromedp.WaitVisible(chromedp.ID("login")))
				loc, err := chromedp.Run(ctx, chromedp.Location())
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(loc, s.IdP.SSOURL+"?SAMLRequest=") {
					t.Errorf("browser at %.80s…, want the IdP's login form for samlflex's request", loc)
				}
			}
			for _, c := range s.Landing.Verified() {
				if c.Subject == aliceUser {
					t.Fatalf("login CSRF: the victim's browser got a token for the attacker %q", c.Subject)
				}
			}
			if !strings.Contains(s.log.String(), `"msg":"idp_initiated_bounce"`) {
				t.Error("samlflex logged no bounce for the attacker's Response")
			}
			if strings.Contains(s.log.String(), `"msg":"login","request_id"`) && !tc.victimSignedIn {
				t.Errorf("samlflex logged a login:\n%s", s.log.String())
			}
		})
	}
}

// TestIdPInitiatedLoop: an IdP that answers samlflex's login request with
// yet another unsolicited Response gets a page naming the setting, after
// exactly one bounce, never an endless redirect.
func TestIdPInitiatedLoop(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{idpIgnoresRequests: true})
	ctx := newBrowser(t)
	tap := tapACS(ctx, t, s.ACSURL)
	do(ctx, t, "open the IdP's login page", chromedp.Navigate(s.IdP.BaseURL+"/idp-initiated"))
	logInAtIdP(ctx, t)
	first := tap.Next()
	if ans := tap.Send(first, first.Form); ans.Status != 303 || !strings.HasPrefix(ans.Header.Get("Location"), s.IdP.SSOURL+"?") {
		t.Fatalf("first unsolicited Response: %d to %.80s, want the bounce", ans.Status, ans.Header.Get("Location"))
	}
	second := tap.Next()
	if strings.Contains(samlResponseXML(t, second.Form), "InResponseTo") {
		t.Fatal("the IdP answered the request; this test needs one that ignores it")
	}
	ans := tap.Send(second, second.Form)
	out := waitOutcome(ctx, t)
	wantRefused(t, ans, out, "idp_initiated_loop")
	if !strings.Contains(out.Text, "idp_initiated") {
		t.Errorf("the page does not name the setting:\n%s", out.Text)
	}
	if n := len(s.Landing.Verified()); n != 0 {
		t.Errorf("landing page verified %d tokens, want none", n)
	}
}
