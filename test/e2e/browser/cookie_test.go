package browser_test

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCrossSiteCookies checks the premises of the login tests with two
// tiny servers and no samlflex: that Chromium keeps a Secure cookie set
// over plain http://127.0.0.1 (a secure context), and that a form on
// localhost posting to 127.0.0.1 is cross-site, so that a SameSite=None
// cookie comes along and a SameSite=Lax one does not. If this test fails,
// the login tests' failures are about the browser, not about samlflex.
func TestCrossSiteCookies(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)

	// "idp" (localhost): an auto-posting form to sp's /acs.
	var spURL string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/acs" id="f"><input type="hidden" name="x" value="1"></form>
<script>document.getElementById('f').submit();</script>`, html.EscapeString(spURL))
	}))
	t.Cleanup(idp.Close)
	_, idpPort, err := net.SplitHostPort(idp.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	idpURL := "http://localhost:" + idpPort

	// "sp" (127.0.0.1): /login sets the cookies and redirects to the idp,
	// /acs shows which cookies came back with the cross-site POST.
	sp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "none", Value: "1", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
			http.SetCookie(w, &http.Cookie{Name: "lax", Value: "1", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			http.Redirect(w, r, idpURL+"/form", http.StatusFound)
		case "/acs":
			got := func(name string) string {
				if _, err := r.Cookie(name); err == nil {
					return "sent"
				}
				return "missing"
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><p id="none">%s</p><p id="lax">%s</p>`, got("none"), got("lax"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(sp.Close)
	spURL = sp.URL

	do(ctx, t, "log in", chromedp.Navigate(sp.URL+"/login"))
	if got := text(ctx, t, "none"); got != "sent" {
		t.Errorf("Secure; SameSite=None cookie set over http://127.0.0.1: %s on the cross-site POST, want sent "+
			"(does this Chromium still treat http://127.0.0.1 as a secure context?)", got)
	}
	if got := text(ctx, t, "lax"); got != "missing" {
		t.Errorf("SameSite=Lax cookie: %s on the POST from localhost to 127.0.0.1, want missing "+
			"(the login tests are not cross-site, so they cannot catch a wrong SameSite)", got)
	}
}
