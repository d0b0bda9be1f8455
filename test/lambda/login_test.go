package lambda_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

const (
	// loginSID is the account of the scripted login. Its IdP is the
	// samlify server the test starts, not the Salesforce org of the golden
	// responses (account sid).
	loginSID  = "ACfeedfacefeedfacefeedfacefeedface"
	loginPath = "/v1/Accounts/" + loginSID + "/saml2"
)

// loginUser is the IdP's user. Username and email differ, so the test sees
// which one becomes the token's sub. The full name has characters XML
// escapes; the roles come as one comma-separated value, as a Salesforce
// formula field sends them.
var loginUser = samlidp.User{
	Username: "aohara@acme.example",
	Password: "correct horse battery staple",
	FullName: `Alice "Al" O'Hara & Co`,
	Email:    "alice.ohara@acme.example",
	Roles:    []string{"supervisor, agent"},
}

// TestLogin is the success path the golden responses cannot give (they
// have expired): a scripted SP-initiated login through the real Runtime
// API. The login link (acs function), the IdP's login form and auto-post
// form (net/http, as a browser without JavaScript), the signed response
// posted to the ACS (acs function) with the login cookie, the session
// token verified against the JWKS of the metadata function, and the same
// response refused when posted again.
func TestLogin(t *testing.T) {
	samlflextest.DynamoDBEndpoint(t)
	rieBinary(t)
	functionBootstrap(t, "acs")
	st := newStack(t)
	idp := startLoginIdP(t, st)
	acs := st.start(t, "acs", keysSecret)
	meta := st.start(t, "metadata", keysSecret)

	// The relay is the start URL, as a Flex deep link names it; the IdP
	// must hand it back unchanged.
	const relay = startURL
	before := time.Now()
	a := startLogin(t, acs, idp, relay)
	if a.relayState != relay {
		t.Errorf("the IdP's form carries RelayState %q, want %q", a.relayState, relay)
	}
	r := finishLogin(t, acs, idp, a, http.StatusSeeOther, "")
	after := time.Now()

	token, ok := strings.CutPrefix(r.header("Location"), startURL+"#token=")
	if !ok || token == "" {
		t.Fatalf("Location %q, want %s#token=<JWT>", r.header("Location"), startURL)
	}
	if cc := r.header("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store: the Location carries the token", cc)
	}
	if rp := r.header("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy %q, want no-referrer", rp)
	}
	checkLoginCookieCleared(t, r)

	jwks := invokeHTTP(t, meta, httpCase{name: "JWKS", event: getEvent("/.well-known/jwks.json", ""), wantStatus: http.StatusOK})
	c := verifyToken(t, token, []byte(jwks.body(t)), time.Now())
	if c.kid != st.cur.Token.Kid {
		t.Errorf("token kid %q, want the current pair's token key %q (ES256, the default)", c.kid, st.cur.Token.Kid)
	}
	if c.Subject != loginUser.Username || c.Name != loginUser.FullName || c.Email != loginUser.Email ||
		strings.Join(c.Roles, ",") != "agent,supervisor" {
		t.Errorf("token says sub %q name %q email %q roles %q; want %q %q %q [agent supervisor]",
			c.Subject, c.Name, c.Email, c.Roles, loginUser.Username, loginUser.FullName, loginUser.Email)
	}
	iat := c.IssuedAt.Time()
	if iat.Before(before.Truncate(time.Second)) || iat.After(after) {
		t.Errorf("iat %s, want between %s and %s", iat, before, after)
	}
	if ttl := c.Expiry.Time().Sub(iat); ttl != samlflex.DefaultTokenTTL {
		t.Errorf("token lives %v, want the default %v", ttl, samlflex.DefaultTokenTTL)
	}
	if c.ID == "" || c.AuthTime == 0 {
		t.Errorf("token lacks jti (%q) or auth_time (%d)", c.ID, c.AuthTime)
	}

	// One response, one login: the same post again (same cookie, so the
	// InResponseTo check passes) is refused by the conditional write.
	replay := finishLogin(t, acs, idp, a, http.StatusConflict, string(samlflex.CodeAssertionReplayed))
	if replay.header("Location") != "" || strings.Contains(replay.body(t), token) {
		t.Errorf("the replay got a Location %q or the token", replay.header("Location"))
	}
	checkLoginCookieCleared(t, replay)

	checkLoginLog(t, acs, idp)
	// Neither the response, the user, the cookie nor the token reach the
	// log.
	checkStdout(t, acs, []string{a.samlResponse[:64], a.samlResponse[len(a.samlResponse)/2 : len(a.samlResponse)/2+64],
		url.QueryEscape(a.samlResponse)[:64], loginUser.Username, loginUser.Email, "O'Hara", a.cookie, token,
		strings.Split(token, ".")[1]})
	checkStdout(t, meta, nil)
}

// startLoginIdP starts the samlify IdP for account loginSID and stores the
// account with the IdP's certificate, issuer and SSO URL, as an admin
// copies them from the IdP. Unsolicited responses are refused, so that a
// login only passes with the login cookie.
func startLoginIdP(t *testing.T, st *stack) *samlidp.IdP {
	t.Helper()
	// Written out rather than taken from samlflex.URLsFor: the IdP must
	// agree with what the functions derive from SAMLFLEX_BASE_URL.
	idp := samlidp.Start(t, samlidp.Options{SPEntityID: baseURL + loginPath + "/metadata", SPACSURL: baseURL + loginPath,
		Users: []samlidp.User{loginUser}, Host: "127.0.0.1"})
	off := false
	acct := samlflex.Account{AccountSID: loginSID, FriendlyName: "samlify test IdP", IdPCertificates: []string{idp.CertPEM},
		IdPIssuer: idp.Issuer, IdPSSOURL: idp.SSOURL, StartURL: startURL, AllowIdPInitiated: &off}
	if err := acct.Validate(time.Now()); err != nil {
		t.Fatal(err)
	}
	st.putAccount(t, acct)
	return idp
}

// loginAttempt is what a login carries from the login link to the ACS.
type loginAttempt struct {
	cookie       string // the __Host-samlflex_login cookie's value
	samlResponse string // the IdP's auto-post form fields
	relayState   string
}

// startLogin opens the login link (acs function) and signs in at the IdP
// the link redirects to, up to the IdP's auto-post form.
func startLogin(t *testing.T, acs *function, idp *samlidp.IdP, relay string) loginAttempt {
	t.Helper()
	return startLoginAt(t, acs, idp, loginPath, relay)
}

// startLoginAt is startLogin for the account whose ACS path is path.
func startLoginAt(t *testing.T, acs *function, idp *samlidp.IdP, path, relay string) loginAttempt {
	t.Helper()
	query := ""
	if relay != "" {
		query = "RelayState=" + url.QueryEscape(relay)
	}
	r := invokeHTTP(t, acs, httpCase{name: "login link", event: getEvent(path+"/login", query), wantStatus: http.StatusFound})
	_, cookie := checkRedirectToIdP(t, r, idp.SSOURL, path, relay)
	a := loginAttempt{cookie: cookie}
	// The browser follows the Location as it is.
	a.samlResponse, a.relayState = signInAtIdP(t, r.header("Location"), loginUser, baseURL+path)
	return a
}

// finishLogin posts the IdP's form to the ACS (acs function) as API
// Gateway delivers it: base64 body, the browser's cookies in the cookies
// array.
func finishLogin(t *testing.T, acs *function, idp *samlidp.IdP, a loginAttempt, wantStatus int, wantCode string) httpResponse {
	t.Helper()
	return finishLoginAt(t, acs, idp, loginPath, a, wantStatus, wantCode)
}

// finishLoginAt is finishLogin for the account whose ACS path is path.
func finishLoginAt(t *testing.T, acs *function, idp *samlidp.IdP, path string, a loginAttempt, wantStatus int, wantCode string) httpResponse {
	t.Helper()
	form := url.Values{"SAMLResponse": {a.samlResponse}}
	if a.relayState != "" {
		form.Set("RelayState", a.relayState)
	}
	ev := formEvent(path, form.Encode())
	ev.headers["origin"] = idp.BaseURL
	ev.headers["referer"] = idp.BaseURL + "/"
	ev.cookies = []string{"__Host-samlflex_login=" + a.cookie}
	return invokeHTTP(t, acs, httpCase{name: "ACS", event: ev, wantStatus: wantStatus, wantCode: wantCode})
}

func checkLoginCookieCleared(t *testing.T, r httpResponse) {
	t.Helper()
	if len(r.Cookies) != 1 || !strings.HasPrefix(r.Cookies[0], "__Host-samlflex_login=;") || !strings.Contains(r.Cookies[0], "Max-Age=0") {
		t.Errorf("cookies %q: want the login cookie cleared", r.Cookies)
	}
}

// checkLoginLog checks the acs function's one "login" line: a solicited
// response (the cookie named its InResponseTo) from the IdP, the user
// named by hash only.
func checkLoginLog(t *testing.T, acs *function, idp *samlidp.IdP) {
	t.Helper()
	var logins []string
	for _, l := range acs.stdout.Lines() {
		if strings.Contains(l, `"msg":"login"`) {
			logins = append(logins, l)
		}
	}
	if len(logins) != 1 {
		t.Fatalf("%d login log lines, want 1: %q", len(logins), logins)
	}
	var ll struct {
		AccountSID  string `json:"account_sid"`
		Issuer      string `json:"issuer"`
		Unsolicited *bool  `json:"unsolicited"`
		SubjectHash string `json:"subject_hash"`
		Token       string `json:"token"`
	}
	sum := sha256.Sum256([]byte(loginUser.Username))
	if err := json.Unmarshal([]byte(logins[0]), &ll); err != nil || ll.AccountSID != loginSID || ll.Issuer != idp.Issuer ||
		ll.Unsolicited == nil || *ll.Unsolicited || ll.SubjectHash != hex.EncodeToString(sum[:8]) || ll.Token != "samlflex" {
		t.Errorf("login log line %s (%v): want account %s, issuer %s, solicited, the subject's hash, a samlflex token",
			logins[0], err, loginSID, idp.Issuer)
	}
}
