package browser_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

// flexAppPage stands in for the Flex UI or Flex SDK app that an account's
// Flex delivery URL names: its script reads the Flex token from the
// #token= fragment, where a real app would call createClient(token), and
// shows it in the element with id flex-token (or why not, in flex-error).
// Either element appears only once the script has run.
const flexAppPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flex app (test)</title></head>
<body><h1>Flex app (test)</h1><main id="out"></main>
<script>
(() => {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const el = document.createElement(token ? 'pre' : 'p');
  el.id = token ? 'flex-token' : 'flex-error';
  el.textContent = token || 'no #token= in the address';
  document.getElementById('out').appendChild(el);
})();
</script></body></html>
`

// flexApp serves flexAppPage on 127.0.0.1, on a server of its own (not the
// landing page's, which checks samlflex tokens).
type flexApp struct {
	URL string // the account's Flex delivery URL

	mu       sync.Mutex
	requests []string // every request URI, to check no token leaks
}

func startFlexApp(t *testing.T) *flexApp {
	t.Helper()
	a := &flexApp{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.Method+" "+r.RequestURI)
		a.mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/flex-app" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, flexAppPage)
	}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/flex-app"
	return a
}

// checkNoTokenLeak fails t if a request to the Flex app named the token:
// it travels in the fragment, which browsers never send to servers.
func (a *flexApp) checkNoTokenLeak(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.requests {
		if strings.Contains(r, "token") {
			t.Errorf("Flex app server got a request naming the token: %s", r)
		}
	}
}

// flexOutcome is the page the browser ended on after a Flex login.
type flexOutcome struct {
	URL   string `json:"url"`
	Token string `json:"token"` // #flex-token of the Flex app
	Error string `json:"error"` // #flex-error of the Flex app
	Code  string `json:"code"`  // samlflex's error page
	// Landing: the start URL's page (for samlflex tokens) is shown.
	Landing bool   `json:"landing"`
	Text    string `json:"text"`
}

// waitFlexOutcome waits until the browser shows the Flex app, done with
// the fragment, and fails t if it shows samlflex's error page or the start
// URL's landing page (samlflex's own token) instead.
func waitFlexOutcome(ctx context.Context, t *testing.T) flexOutcome {
	t.Helper()
	do(ctx, t, "wait for the Flex app, the landing page or the error page",
		chromedp.WaitReady(chromedp.CSS("#flex-token, #flex-error, #code, #done")))
	out, err := chromedp.Run(ctx, chromedp.Evaluate[flexOutcome](`(() => {
  const v = (id) => { const e = document.getElementById(id); return e ? e.textContent : ""; };
  return {url: location.href, token: v("flex-token"), error: v("flex-error"), code: v("code"),
    landing: v("done") !== "", text: document.body.innerText};
})()`))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	switch {
	case out.Landing:
		t.Fatalf("browser went to the start URL's landing page (%.80s…), not to the Flex app; page text:\n%s", out.URL, out.Text)
	case out.Error != "" || out.Code != "":
		t.Fatalf("Flex login failed: Flex app error %q, samlflex code %q; page text:\n%s", out.Error, out.Code, out.Text)
	}
	return out
}

// flexLogin logs alice in through s's login link in a fresh browser, waits
// for the Flex app, and returns what it shows and the stand-in's Flex user.
// Not exactly one Flex user fails t: a login after the first must update
// that user, as provisioning is idempotent.
func flexLogin(t *testing.T, s *site, tw *flextest.Server) (flexOutcome, flextest.User) {
	t.Helper()
	ctx := newBrowser(t)
	do(ctx, t, "open the login link", chromedp.Navigate(s.LoginURL))
	logInAtIdP(ctx, t)
	out := waitFlexOutcome(ctx, t)
	users := tw.Users()
	if len(users) != 1 {
		t.Fatalf("the stand-in has %d Flex users, want 1 (provisioning must be idempotent): %+v", len(users), users)
	}
	return out, users[0]
}

// TestSPInitiatedLoginWithFlex is the login an agent does when the account
// has a Flex connection (to the Twilio stand-in flextest): samlflex
// provisions the Flex user from the assertion, mints a Flex user token and
// sends the browser to the Flex app with it, instead of its own token to
// the start URL. A second login, after the user's roles changed at the
// IdP, updates the same Flex user.
func TestSPInitiatedLoginWithFlex(t *testing.T) {
	t.Parallel()
	tw := flextest.New(t, flextest.Options{})
	app := startFlexApp(t)
	s := newSite(t, siteOptions{flex: &flexConnection{
		instanceSID: flextest.InstanceSID,
		apiKeySID:   flextest.APIKeySID,
		apiSecret:   flextest.APISecret,
		apiBaseURL:  tw.URL,
		deliveryURL: app.URL,
	}})
	// Each login has its own browser, closed before samlflex serve stops:
	// an open Chromium keeps speculative connections to samlflex that carry
	// no request yet, and Go's graceful shutdown waits about 5 s for those.

	// First login: the Flex user is created.
	var first flextest.User
	if !t.Run("first_login", func(t *testing.T) {
		var out flexOutcome
		out, first = flexLogin(t, s, tw)
		wantFlexUser(t, first, []string{"agent", "supervisor"}, 1)
		tokens := tw.Tokens()
		if len(tokens) != 1 {
			t.Fatalf("the stand-in minted %d tokens, want 1", len(tokens))
		}
		wantFlexDelivery(t, s, app, out, tokens[0], first)
	}) {
		return
	}

	// The admin changes alice's roles in the IdP. The test IdP reads its
	// users when it starts, so that is a restart: a new address and a new
	// signing key, which the admin saves with `account put`.
	idp2 := samlidp.Start(t, samlidp.Options{SPEntityID: s.EntityID, SPACSURL: s.ACSURL, Host: "localhost",
		Users: []samlidp.User{{Username: aliceUser, Password: alicePassword, FullName: aliceFullName,
			Email: aliceUser, Roles: []string{"agent,admin"}}}})
	s.switchIdP(t, idp2)

	// Second login: the same Flex user, updated; no second user.
	if !t.Run("roles_changed", func(t *testing.T) {
		out, second := flexLogin(t, s, tw)
		if second.FlexUserSID != first.FlexUserSID || second.WorkerSID != first.WorkerSID {
			t.Errorf("Flex user %s (worker %s), want the first login's, %s (worker %s)",
				second.FlexUserSID, second.WorkerSID, first.FlexUserSID, first.WorkerSID)
		}
		wantFlexUser(t, second, []string{"admin", "agent"}, 2)
		tokens := tw.Tokens()
		if len(tokens) != 2 {
			t.Fatalf("the stand-in minted %d tokens in all, want 2", len(tokens))
		}
		if tokens[1].AccessToken == tokens[0].AccessToken {
			t.Error("the second login got the first login's token")
		}
		wantFlexDelivery(t, s, app, out, tokens[1], second)
	}) {
		return
	}

	// Every call to Twilio: the account's API key, the instance, success.
	if n := len(tw.RequestsTo(http.MethodPost, "/Users/Provision")); n != 2 {
		t.Errorf("%d Provision requests, want 2 (one per login)", n)
	}
	if n := len(tw.RequestsTo(http.MethodPost, "/Tokens")); n != 2 {
		t.Errorf("%d token requests, want 2 (one per login)", n)
	}
	for _, r := range tw.Requests() {
		if !r.BasicOK || r.BasicUser != flextest.APIKeySID || r.BasicPassword != flextest.APISecret {
			t.Errorf("%s %s: Authorization is not basic auth with the API key %s and its secret (basic %v, user %q)",
				r.Method, r.Path, flextest.APIKeySID, r.BasicOK, r.BasicUser)
		}
		if !strings.HasPrefix(r.Path, "/v4/Instances/"+flextest.InstanceSID+"/") || r.Status < 200 || r.Status > 299 {
			t.Errorf("%s %s answered %d, want 2xx for instance %s", r.Method, r.Path, r.Status, flextest.InstanceSID)
		}
	}

	// Neither the secret nor a Flex token nor alice in clear in the log.
	log := s.log.String()
	if strings.Contains(log, flextest.APISecret) {
		t.Error("samlflex serve logged the Flex API key secret")
	}
	for i, tok := range tw.Tokens() {
		if strings.Contains(log, tok.AccessToken) {
			t.Errorf("samlflex serve logged the Flex token of login %d", i+1)
		}
	}
	if strings.Contains(log, aliceUser) {
		t.Error("samlflex serve logged the user's username (an e-mail address) in clear")
	}
}

// wantFlexUser checks the stand-in's user against the IdP's alice.
func wantFlexUser(t *testing.T, u flextest.User, roles []string, version int) {
	t.Helper()
	if u.Username != aliceUser || u.FullName != aliceFullName || u.Email != aliceUser {
		t.Errorf("Flex user username, full name, email = %q, %q, %q; want %q, %q, %q",
			u.Username, u.FullName, u.Email, aliceUser, aliceFullName, aliceUser)
	}
	if !slices.Equal(u.Roles, roles) {
		t.Errorf("Flex user roles = %q, want %q", u.Roles, roles)
	}
	if u.Version != version || u.Deactivated {
		t.Errorf("Flex user version %d (deactivated %v), want version %d, active", u.Version, u.Deactivated, version)
	}
}

// wantFlexDelivery checks that the browser shows the Flex app with the
// token that the stand-in minted for user, and that this is a Flex token,
// not one of samlflex's: the start URL, whose page checks samlflex tokens,
// was never opened, and the token does not verify against samlflex's JWKS.
func wantFlexDelivery(t *testing.T, s *site, app *flexApp, out flexOutcome, minted flextest.MintedToken, user flextest.User) {
	t.Helper()
	if !strings.HasPrefix(out.URL, app.URL+"#token=") {
		t.Errorf("browser is at %.80s…, want the Flex delivery URL %s with #token=", out.URL, app.URL)
	}
	if out.Token != minted.AccessToken {
		t.Errorf("Flex app shows token %.40q…, want the one the stand-in minted, %.40q…", out.Token, minted.AccessToken)
	}
	if minted.FlexUserSID != user.FlexUserSID || minted.Username != aliceUser {
		t.Errorf("token minted for %s (%s), want %s (%s)", minted.FlexUserSID, minted.Username, user.FlexUserSID, aliceUser)
	}
	if minted.TTL != 3600 {
		t.Errorf("token TTL %ds, want 3600 (the account's default token TTL, 1h)", minted.TTL)
	}
	if _, err := s.Landing.verify(t.Context(), out.Token); err == nil {
		t.Error("the token the Flex app got verifies as a samlflex session token")
	}
	if kid, ok := jwsKeyID(out.Token); ok && slices.Contains(samlflexKeyIDs(t, s), kid) {
		t.Errorf("the token the Flex app got is a JWS signed with samlflex's key %q", kid)
	}
	s.Landing.mu.Lock()
	landed := slices.Clone(s.Landing.requests)
	s.Landing.mu.Unlock()
	if len(landed) != 0 {
		t.Errorf("the start URL's server got requests, want none (a Flex login goes to the Flex app): %q", landed)
	}
	app.checkNoTokenLeak(t)
}

// jwsKeyID returns the kid of a compact JWS (three dot-separated parts
// whose first is a JSON header).
func jwsKeyID(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	var h struct {
		KeyID string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return "", false
	}
	return h.KeyID, true
}

// samlflexKeyIDs returns the kids of samlflex's published JWKS.
func samlflexKeyIDs(t *testing.T, s *site) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.BaseURL+"/.well-known/jwks.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fetch samlflex's JWKS: %v", err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			KeyID string `json:"kid"`
		} `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fetch samlflex's JWKS: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("samlflex's JWKS: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	if len(kids) == 0 {
		t.Fatal("samlflex's JWKS has no keys")
	}
	return kids
}
