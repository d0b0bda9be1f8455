package demo

import (
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func newTestIdP(t *testing.T, key *IdPKey, base string) *IdP {
	t.Helper()
	p, err := NewIdP(IdPConfig{BaseURL: base, AccountSID: testSID, Key: key, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// servedBase is where newServedIdP's IdP says it is served.
const servedBase = "http://127.0.0.1:8080"

// newServedIdP is a demo IdP at servedBase, signing with a new key, with
// its pages registered on a fresh mux.
func newServedIdP(t *testing.T) (*IdPKey, *IdP, *http.ServeMux) {
	t.Helper()
	key := newTestKey(t)
	idp := newTestIdP(t, key, servedBase)
	mux := http.NewServeMux()
	idp.Register(mux)
	return key, idp, mux
}

func newVerifier(t *testing.T, key *IdPKey, base string, now time.Time) *samlflex.Verifier {
	t.Helper()
	acct := Account(base, testSID, key)
	if err := acct.Validate(now); err != nil {
		t.Fatalf("demo account does not validate: %v", err)
	}
	v, err := samlflex.NewVerifier(samlflex.VerifierConfig{Account: acct, BaseURL: base, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSignedResponseVerifies is the contract with the real verifier: what
// the demo IdP signs, samlflex accepts, for every demo user, solicited or
// not, and maps to the expected Flex identity.
func TestSignedResponseVerifies(t *testing.T) {
	t.Parallel()
	key := newTestKey(t)
	const base = "http://127.0.0.1:8080"
	idp := newTestIdP(t, key, base)
	users := DefaultUsers()
	tests := []struct {
		name         string
		user         User
		inResponseTo string
		wantRoles    []string
	}{
		{"alice agent, SP-initiated", users[0], "_samlflex_00112233445566778899aabbccddeeff", []string{"agent"}},
		{"bob supervisor and agent, SP-initiated", users[1], "_samlflex_ffeeddccbbaa99887766554433221100", []string{"supervisor", "agent"}},
		{"carol admin, IdP-initiated", users[2], "", []string{"admin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			xml, err := idp.SignedResponse(tc.user, tc.inResponseTo)
			if err != nil {
				t.Fatal(err)
			}
			v := newVerifier(t, key, base, testNow.Add(10*time.Second))
			a, err := v.Verify([]byte(base64.StdEncoding.EncodeToString(xml)), samlflex.Expect{RequestID: tc.inResponseTo})
			if err != nil {
				t.Fatalf("Verify: %v\n%s", err, xml)
			}
			if a.Signed != "response" {
				t.Errorf("Signed = %q, want response (Salesforce's default)", a.Signed)
			}
			if a.Unsolicited != (tc.inResponseTo == "") {
				t.Errorf("Unsolicited = %v", a.Unsolicited)
			}
			if a.SignatureAlgorithm != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
				t.Errorf("SignatureAlgorithm = %q", a.SignatureAlgorithm)
			}
			acct := Account(base, testSID, key)
			id, err := samlflex.Map(a, acct.Mapping())
			if err != nil {
				t.Fatal(err)
			}
			if id.Identity != tc.user.Username || id.FullName != tc.user.FullName || id.Email != tc.user.Email {
				t.Errorf("identity = %+v", id)
			}
			if got := slices.Sorted(slices.Values(id.Roles)); !slices.Equal(got, slices.Sorted(slices.Values(tc.wantRoles))) {
				t.Errorf("roles = %v, want %v", id.Roles, tc.wantRoles)
			}
		})
	}
}

// TestSignedResponseShape checks what Salesforce does and a verifier may
// rely on: the Signature right after the Response's Issuer, exclusive
// c14n, SHA-256, roles as one comma-separated value.
func TestSignedResponseShape(t *testing.T) {
	t.Parallel()
	key := newTestKey(t)
	idp := newTestIdP(t, key, "http://127.0.0.1:8080")
	xml, err := idp.SignedResponse(DefaultUsers()[1], "_req")
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, c := range doc.Root().ChildElements() {
		tags = append(tags, c.Tag)
	}
	if want := []string{"Issuer", "Signature", "Status", "Assertion"}; !slices.Equal(tags, want) {
		t.Errorf("Response children = %v, want %v", tags, want)
	}
	for path, want := range map[string]string{
		"./Signature/SignedInfo/CanonicalizationMethod": "http://www.w3.org/2001/10/xml-exc-c14n#",
		"./Signature/SignedInfo/Reference/DigestMethod": "http://www.w3.org/2001/04/xmlenc#sha256",
	} {
		el := doc.Root().FindElement(path)
		if el == nil || el.SelectAttrValue("Algorithm", "") != want {
			t.Errorf("%s Algorithm is not %s", path, want)
		}
	}
	roles := doc.Root().FindElement("./Assertion/AttributeStatement/Attribute[@Name='roles']/AttributeValue")
	if roles == nil || roles.Text() != "supervisor,agent" {
		t.Errorf("roles attribute = %v", roles)
	}
}

// TestSignedResponseRefusedElsewhere: the response is bound to the demo
// account; another account's verifier, a later clock or another key refuse
// it, so the demo does not teach that any signed response goes.
func TestSignedResponseRefusedElsewhere(t *testing.T) {
	t.Parallel()
	key := newTestKey(t)
	other := newTestKey(t)
	const base = "http://127.0.0.1:8080"
	idp := newTestIdP(t, key, base)
	xml, err := idp.SignedResponse(DefaultUsers()[0], "")
	if err != nil {
		t.Fatal(err)
	}
	enc := []byte(base64.StdEncoding.EncodeToString(xml))
	tests := []struct {
		name     string
		verifier func(t *testing.T) *samlflex.Verifier
		wantCode samlflex.Code
	}{
		{"other account", func(t *testing.T) *samlflex.Verifier {
			acct := Account(base, samlflextest.AccountSID, key)
			v, err := samlflex.NewVerifier(samlflex.VerifierConfig{Account: acct, BaseURL: base, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, samlflex.CodeDestinationMismatch},
		{"after five minutes and the skew", func(t *testing.T) *samlflex.Verifier {
			return newVerifier(t, key, base, testNow.Add(5*time.Minute+samlflex.DefaultClockSkew))
		}, samlflex.CodeAssertionExpired},
		{"other certificate", func(t *testing.T) *samlflex.Verifier {
			return newVerifier(t, other, base, testNow)
		}, samlflex.CodeCertificateUntrusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.verifier(t).Verify(enc, samlflex.Expect{})
			if got := samlflex.CodeOf(err); got != tc.wantCode {
				t.Errorf("code = %s, want %s (err %v)", got, tc.wantCode, err)
			}
		})
	}
}

// TestIdPLoginFlow drives the IdP over HTTP as a browser would: login link
// request, form, wrong then right password, auto-post form whose response
// the verifier accepts for that request.
func TestIdPLoginFlow(t *testing.T) {
	t.Parallel()
	key := newTestKey(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	idp := newTestIdP(t, key, srv.URL)
	idp.Register(mux)

	sp := idp.SP()
	req, err := samlflex.NewAuthnRequest(samlflex.AuthnRequestOptions{
		IdPSSOURL: idp.SSOURL(), URLs: sp, RelayState: srv.URL + DesktopPath, Now: testNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(req.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "TEST IdP — local only") {
		t.Fatalf("GET sso: %d\n%s", resp.StatusCode, page)
	}
	action, fields := formFields(t, page)
	if action != IdPLoginPath || fields["RelayState"] != srv.URL+DesktopPath || fields["SAMLRequest"] == "" {
		t.Fatalf("login form: action %q fields %v", action, fields)
	}

	post := func(username, password string) (*http.Response, string) {
		form := url.Values{"SAMLRequest": {fields["SAMLRequest"]}, "RelayState": {fields["RelayState"]},
			"username": {username}, "password": {password}}
		r, err := c.PostForm(srv.URL+action, form)
		if err != nil {
			t.Fatal(err)
		}
		return r, readBody(t, r)
	}
	if r, body := post("alice", "wrong"); r.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="error"`) {
		t.Fatalf("wrong password: %d\n%s", r.StatusCode, body)
	}
	r, body := post("Alice", Password)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("login: %d\n%s", r.StatusCode, body)
	}
	acs, out := formFields(t, body)
	if acs != sp.ACS || out["RelayState"] != srv.URL+DesktopPath {
		t.Fatalf("auto-post form: action %q fields %v", acs, out)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, cspHash(autopostJS)) || !strings.Contains(csp, "form-action 'self' "+srv.URL) {
		t.Errorf("auto-post CSP = %q", csp)
	}
	a, err := newVerifier(t, key, srv.URL, testNow).Verify([]byte(out["SAMLResponse"]), samlflex.Expect{RequestID: req.ID})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if a.InResponseTo != req.ID || a.NameID != "alice" {
		t.Errorf("assertion: InResponseTo %q NameID %q", a.InResponseTo, a.NameID)
	}
}

// TestIdPRefuses: the IdP answers only the demo account's requests.
func TestIdPRefuses(t *testing.T) {
	t.Parallel()
	_, idp, mux := newServedIdP(t)
	sp := idp.SP()
	otherSP, _ := samlflex.URLsFor("https://evil.example", testSID)
	request := func(issuer, acs, dest string) string {
		return deflateB64(t, `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-03-10T09:30:00Z" Destination="`+dest+`" AssertionConsumerServiceURL="`+acs+`"><saml:Issuer>`+issuer+`</saml:Issuer></samlp:AuthnRequest>`)
	}
	tests := []struct {
		name       string
		method     string
		target     string
		form       url.Values
		wantStatus int
		wantText   string
	}{
		{"no request", http.MethodGet, IdPSSOPath, nil, http.StatusBadRequest, "missing"},
		{"not base64", http.MethodGet, IdPSSOPath + "?SAMLRequest=%%%", nil, http.StatusBadRequest, ""},
		{"not deflated", http.MethodGet, IdPSSOPath + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<x/>"))), nil, http.StatusBadRequest, "DEFLATE"},
		{"other SP", http.MethodGet, IdPSSOPath + "?SAMLRequest=" + url.QueryEscape(request(otherSP.EntityID, sp.ACS, idp.SSOURL())), nil, http.StatusBadRequest, "only signs for the demo account"},
		{"other ACS", http.MethodGet, IdPSSOPath + "?SAMLRequest=" + url.QueryEscape(request(sp.EntityID, otherSP.ACS, idp.SSOURL())), nil, http.StatusBadRequest, "another ACS URL"},
		{"other IdP", http.MethodGet, IdPSSOPath + "?SAMLRequest=" + url.QueryEscape(request(sp.EntityID, sp.ACS, "https://idp.example/sso")), nil, http.StatusBadRequest, "another identity provider"},
		{"good request", http.MethodGet, IdPSSOPath + "?SAMLRequest=" + url.QueryEscape(request(sp.EntityID, sp.ACS, idp.SSOURL())), nil, http.StatusOK, "Sign in to the demo IdP"},
		{"login for other SP", http.MethodPost, IdPLoginPath, url.Values{"SAMLRequest": {request(otherSP.EntityID, "", "")}, "username": {"alice"}, "password": {Password}}, http.StatusBadRequest, "only signs for the demo account"},
		{"login without request", http.MethodPost, IdPLoginPath, url.Values{"username": {"alice"}, "password": {Password}}, http.StatusBadRequest, "missing"},
		{"long RelayState", http.MethodPost, IdPLoginPath, url.Values{"SAMLRequest": {request(sp.EntityID, "", "")}, "RelayState": {strings.Repeat("x", 81)}, "username": {"alice"}, "password": {Password}}, http.StatusBadRequest, "80 bytes"},
		{"initiated unknown user", http.MethodGet, IdPInitiatedPath + "?user=mallory", nil, http.StatusBadRequest, "no demo user"},
		{"initiated chooser", http.MethodGet, IdPInitiatedPath, nil, http.StatusOK, `id="initiated-bob"`},
		{"sso wrong method", http.MethodPost, IdPSSOPath, url.Values{}, http.StatusMethodNotAllowed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r *http.Request
			if tc.form != nil {
				r = httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.form.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				r = httptest.NewRequest(tc.method, tc.target, nil)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.wantStatus || !strings.Contains(w.Body.String(), tc.wantText) {
				t.Errorf("status %d, want %d; body contains %q? body:\n%s", w.Code, tc.wantStatus, tc.wantText, w.Body.String())
			}
			if w.Code != http.StatusMethodNotAllowed && !strings.Contains(w.Body.String(), "TEST IdP — local only") {
				t.Error("page lacks the TEST IdP banner")
			}
		})
	}
}

// TestIdPInitiated: one click signs an unsolicited response for the user.
func TestIdPInitiated(t *testing.T) {
	t.Parallel()
	key, _, mux := newServedIdP(t)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, IdPInitiatedPath+"?user=bob", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", w.Code, w.Body)
	}
	_, fields := formFields(t, w.Body.String())
	a, err := newVerifier(t, key, servedBase, testNow).Verify([]byte(fields["SAMLResponse"]), samlflex.Expect{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Unsolicited || a.NameID != "bob" {
		t.Errorf("Unsolicited %v NameID %q", a.Unsolicited, a.NameID)
	}
}

func TestParseRedirectRequest(t *testing.T) {
	t.Parallel()
	good := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc" Version="2.0" AssertionConsumerServiceURL="http://127.0.0.1/acs"><saml:Issuer> http://sp.example/metadata </saml:Issuer></samlp:AuthnRequest>`
	tests := []struct {
		name    string
		in      string
		wantErr string
		wantID  string
	}{
		{"good", deflateB64(t, good), "", "_abc"},
		{"empty", "", "missing", ""},
		{"too long", strings.Repeat("A", maxEncodedRequest+1), "too large", ""},
		{"deflate bomb", deflateB64(t, strings.Repeat(" ", maxInflatedRequest+10)), "too large", ""},
		{"wrong namespace", deflateB64(t, strings.ReplaceAll(good, ":protocol", ":other")), "not a SAML 2.0 AuthnRequest", ""},
		{"version 1.1", deflateB64(t, strings.Replace(good, `Version="2.0"`, `Version="1.1"`, 1)), "not SAML 2.0", ""},
		{"no ID", deflateB64(t, strings.Replace(good, `ID="_abc"`, "", 1)), "no usable ID", ""},
		{"no issuer", deflateB64(t, strings.Replace(good, "http://sp.example/metadata", "", 1)), "Issuer", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRedirectRequest(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != tc.wantID || r.Issuer != "http://sp.example/metadata" || r.ACSURL != "http://127.0.0.1/acs" {
				t.Errorf("got %+v", r)
			}
		})
	}
}

// TestPagesCSP: every inline script and style of the pages is allowed by
// the hash in the page's policy, byte for byte as html/template wrote it.
func TestPagesCSP(t *testing.T) {
	t.Parallel()
	key := newTestKey(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	h, err := New(Config{BaseURL: srv.URL, AccountSID: testSID, IdPKey: key, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{IndexPath, DesktopPath, IdPInitiatedPath, IdPInitiatedPath + "?user=alice"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			csp := w.Header().Get("Content-Security-Policy")
			page := w.Body.String()
			for _, tag := range []string{"script", "style"} {
				for _, block := range inlineBlocks(page, tag) {
					if !strings.Contains(csp, cspHash(block)) {
						t.Errorf("inline %s not allowed by CSP %q:\n%s", tag, csp, block)
					}
				}
			}
			if strings.Contains(page, "http://") && strings.Contains(page, "<script src") {
				t.Error("page loads an external script")
			}
		})
	}
}
