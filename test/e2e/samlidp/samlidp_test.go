package samlidp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

const (
	spEntityID = "https://samlflex.test/v1/Accounts/AC0123/metadata"
	// Nothing listens here: the tests read the auto-post form instead of
	// following it, as the browser test will.
	spACSURL = "http://localhost:1/v1/Accounts/AC0123/saml2"

	statusSuccess   = "urn:oasis:names:tc:SAML:2.0:status:Success"
	nameIDFormat    = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	wrongPassword   = "Wrong username or password"
	alicePassword   = "correct horse battery staple"
	noEmailUser     = "noemail@example.com"
	noEmailPassword = "pw2"
)

func startTestIdP(t *testing.T) *IdP {
	t.Helper()
	return Start(t, Options{
		SPEntityID: spEntityID,
		SPACSURL:   spACSURL,
		Users: []User{
			{
				Username: "alice@example.com", Password: alicePassword,
				FullName: `Alice "A" <O'Hara> & Co`, Email: "alice@example.com",
				Roles: []string{"agent", "supervisor"},
			},
			{Username: noEmailUser, Password: noEmailPassword, FullName: "No Email", Roles: []string{"agent"}},
		},
	})
}

func newRequestID(t *testing.T) string {
	t.Helper()
	return "_req" + strings.ToLower(rand.Text())
}

// loginPage starts an SP-initiated login with the HTTP-Redirect binding.
func loginPage(t *testing.T, idp *IdP, requestID, issuer, acsURL, relayState string) *Page {
	t.Helper()
	q := url.Values{"SAMLRequest": {deflateBase64(t, authnRequestXML(requestID, issuer, acsURL, idp.SSOURL))}}
	if relayState != "" {
		q.Set("RelayState", relayState)
	}
	return fetch(t, http.MethodGet, idp.SSOURL+"?"+q.Encode(), nil)
}

// autoPostResponse checks the HTTP-POST binding page and returns its
// SAMLResponse and RelayState fields.
func autoPostResponse(t *testing.T, p *Page) (samlResponse, relayState string) {
	t.Helper()
	if p.Status != http.StatusOK {
		t.Fatalf("status %d, want 200:\n%s", p.Status, p.Body)
	}
	f := onlyForm(t, p)
	if f.Action != spACSURL || !strings.EqualFold(f.Method, "post") {
		t.Errorf("form posts (%s) to %q, want POST to %q", f.Method, f.Action, spACSURL)
	}
	if !p.IDs["continue"] {
		t.Errorf("no no-JS fallback button id=continue:\n%s", p.Body)
	}
	if !strings.Contains(p.Body, ".submit()") {
		t.Errorf("form does not submit itself:\n%s", p.Body)
	}
	return f.Values.Get("SAMLResponse"), f.Values.Get("RelayState")
}

// checkResponse checks the verified Response against what an SP expects
// from Salesforce. wantInResponseTo "" means unsolicited: no InResponseTo.
func checkResponse(t *testing.T, idp *IdP, resp *etree.Element, wantInResponseTo, wantNameID string) {
	t.Helper()
	if resp.Tag != "Response" {
		t.Fatalf("signed element is <%s>, want the Response", resp.Tag)
	}
	if got := resp.SelectAttrValue("Destination", ""); got != spACSURL {
		t.Errorf("Destination = %q, want %q", got, spACSURL)
	}
	if got := text(resp, "./Issuer"); got != idp.Issuer {
		t.Errorf("Issuer = %q, want %q", got, idp.Issuer)
	}
	if got, _ := attr(resp, "./Status/StatusCode", "Value"); got != statusSuccess {
		t.Errorf("StatusCode = %q", got)
	}
	if got := text(resp, "./Assertion/Issuer"); got != idp.Issuer {
		t.Errorf("Assertion Issuer = %q, want %q", got, idp.Issuer)
	}
	if resp.FindElement("./Assertion/Signature") != nil {
		t.Error("Assertion is signed; Salesforce signs only the Response")
	}
	if got := text(resp, "./Assertion/Subject/NameID"); got != wantNameID {
		t.Errorf("NameID = %q, want %q", got, wantNameID)
	}
	if got, _ := attr(resp, "./Assertion/Subject/NameID", "Format"); got != nameIDFormat {
		t.Errorf("NameID Format = %q", got)
	}
	scd := "./Assertion/Subject/SubjectConfirmation/SubjectConfirmationData"
	if got, _ := attr(resp, scd, "Recipient"); got != spACSURL {
		t.Errorf("Recipient = %q, want %q", got, spACSURL)
	}
	if got := text(resp, "./Assertion/Conditions/AudienceRestriction/Audience"); got != spEntityID {
		t.Errorf("Audience = %q, want %q", got, spEntityID)
	}
	for _, where := range []string{".", scd} {
		got, present := attr(resp, where, "InResponseTo")
		switch {
		case wantInResponseTo == "" && present:
			t.Errorf("%s has InResponseTo=%q in an unsolicited Response", where, got)
		case wantInResponseTo != "" && got != wantInResponseTo:
			t.Errorf("%s InResponseTo = %q (present %v), want %q", where, got, present, wantInResponseTo)
		}
	}
}

func TestIdP(t *testing.T) {
	idp := startTestIdP(t)

	t.Run("sp_initiated_redirect_binding", func(t *testing.T) {
		t.Parallel()
		id := newRequestID(t)
		relay := "https://flex.twilio.com/x?a=1&b=<2>"
		p := loginPage(t, idp, id, spEntityID, spACSURL, relay)
		if p.Status != http.StatusOK {
			t.Fatalf("GET /sso: status %d:\n%s", p.Status, p.Body)
		}
		for _, want := range []string{"username", "password", "login"} {
			if !p.IDs[want] {
				t.Errorf("login page has no element id=%s", want)
			}
		}
		f := onlyForm(t, p)
		if f.Values.Get("request_id") != id || f.Values.Get("RelayState") != relay {
			t.Fatalf("hidden fields = %v, want request_id %q and RelayState %q", f.Values, id, relay)
		}

		samlResponse, gotRelay := autoPostResponse(t, submit(t, f,
			map[string]string{"username": "alice@example.com", "password": alicePassword}))
		if gotRelay != relay {
			t.Errorf("RelayState = %q, want %q", gotRelay, relay)
		}
		resp := verifiedResponse(t, samlResponse, idp.Cert)
		checkResponse(t, idp, resp, id, "alice@example.com")
		want := map[string][]string{
			"full_name": {`Alice "A" <O'Hara> & Co`},
			"email":     {"alice@example.com"},
			"roles":     {"agent", "supervisor"},
		}
		got := attributes(resp)
		for name, values := range want {
			if !slices.Equal(got[name], values) {
				t.Errorf("attribute %s = %q, want %q", name, got[name], values)
			}
		}
	})

	t.Run("sp_initiated_post_binding", func(t *testing.T) {
		t.Parallel()
		id := newRequestID(t)
		req := base64.StdEncoding.EncodeToString([]byte(authnRequestXML(id, spEntityID, "", idp.SSOURL)))
		p := fetch(t, http.MethodPost, idp.SSOURL, url.Values{"SAMLRequest": {req}})
		if p.Status != http.StatusOK || onlyForm(t, p).Values.Get("request_id") != id {
			t.Fatalf("POST /sso: status %d, want 200 with request_id %q:\n%s", p.Status, id, p.Body)
		}
	})

	t.Run("idp_initiated_is_unsolicited", func(t *testing.T) {
		t.Parallel()
		samlResponse, relay := autoPostResponse(t,
			fetch(t, http.MethodGet, idp.IdPInitiatedURL("alice@example.com", alicePassword, "r1"), nil))
		if relay != "r1" {
			t.Errorf("RelayState = %q, want r1", relay)
		}
		checkResponse(t, idp, verifiedResponse(t, samlResponse, idp.Cert), "", "alice@example.com")
	})

	t.Run("empty_attribute_is_left_out", func(t *testing.T) {
		t.Parallel()
		samlResponse, _ := autoPostResponse(t,
			fetch(t, http.MethodGet, idp.IdPInitiatedURL(noEmailUser, noEmailPassword, ""), nil))
		got := attributes(verifiedResponse(t, samlResponse, idp.Cert))
		if _, ok := got["email"]; ok || len(got["full_name"]) != 1 || len(got["roles"]) != 1 {
			t.Errorf("attributes = %q, want full_name and roles only", got)
		}
	})

	t.Run("signature_has_teeth", func(t *testing.T) {
		t.Parallel()
		samlResponse, _ := autoPostResponse(t,
			fetch(t, http.MethodGet, idp.IdPInitiatedURL("alice@example.com", alicePassword, ""), nil))
		raw, _ := base64.StdEncoding.DecodeString(samlResponse)
		tampered := strings.Replace(string(raw), ">alice@example.com</saml2:NameID>", ">mallory@example.com</saml2:NameID>", 1)
		if tampered == string(raw) {
			t.Fatal("NameID not found to tamper with")
		}
		if _, err := validate([]byte(tampered), idp.Cert); err == nil {
			t.Error("tampered Response verified")
		}
		other, err := newSigningPair(idp.Cert.NotBefore)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := validate(raw, other.cert); err == nil {
			t.Error("Response verified with another certificate")
		}
	})

	t.Run("metadata", func(t *testing.T) {
		t.Parallel()
		p := fetch(t, http.MethodGet, idp.MetadataURL, nil)
		doc := etree.NewDocument()
		if p.Status != http.StatusOK || doc.ReadFromString(p.Body) != nil {
			t.Fatalf("GET /metadata: status %d:\n%s", p.Status, p.Body)
		}
		if got := doc.Root().SelectAttrValue("entityID", ""); got != idp.Issuer {
			t.Errorf("entityID = %q, want %q", got, idp.Issuer)
		}
		block, _ := pem.Decode([]byte(idp.CertPEM))
		if got := text(doc.Root(), "./IDPSSODescriptor/KeyDescriptor/KeyInfo/X509Data/X509Certificate"); got != base64.StdEncoding.EncodeToString(block.Bytes) {
			t.Errorf("metadata certificate is not the signing certificate")
		}
		locations := map[string]bool{}
		for _, s := range doc.Root().FindElements("./IDPSSODescriptor/SingleSignOnService") {
			locations[s.SelectAttrValue("Location", "")] = true
		}
		if !locations[idp.SSOURL] {
			t.Errorf("SingleSignOnService locations %v lack %s", locations, idp.SSOURL)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		t.Parallel()
		if p := fetch(t, http.MethodGet, idp.BaseURL+"/healthz", nil); p.Status != http.StatusOK {
			t.Errorf("GET /healthz: status %d", p.Status)
		}
	})
}

func TestIdPRefuses(t *testing.T) {
	idp := startTestIdP(t)
	for _, tc := range []struct {
		name       string
		issuer     string // of the AuthnRequest
		acsURL     string // of the AuthnRequest
		login      map[string]string
		wantStatus int
		wantBody   string
	}{
		{name: "wrong_password", login: map[string]string{"username": "alice@example.com", "password": "nope"}, wantStatus: http.StatusUnauthorized, wantBody: wrongPassword},
		{name: "unknown_user", login: map[string]string{"username": "eve@example.com", "password": alicePassword}, wantStatus: http.StatusUnauthorized, wantBody: wrongPassword},
		{name: "another_users_password", login: map[string]string{"username": noEmailUser, "password": alicePassword}, wantStatus: http.StatusUnauthorized, wantBody: wrongPassword},
		{name: "forged_request_id", login: map[string]string{"request_id": "_never-sent", "username": "alice@example.com", "password": alicePassword}, wantStatus: http.StatusBadRequest, wantBody: "Unknown login request"},
		{name: "unknown_sp", issuer: "https://evil.example/sp", wantStatus: http.StatusBadRequest, wantBody: "Unknown service provider"},
		{name: "other_acs_url", acsURL: "https://evil.example/acs", wantStatus: http.StatusBadRequest, wantBody: "Wrong ACS URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			issuer, acs := spEntityID, spACSURL
			if tc.issuer != "" {
				issuer = tc.issuer
			}
			if tc.acsURL != "" {
				acs = tc.acsURL
			}
			p := loginPage(t, idp, newRequestID(t), issuer, acs, "rs")
			if tc.login != nil {
				if p.Status != http.StatusOK {
					t.Fatalf("GET /sso: status %d:\n%s", p.Status, p.Body)
				}
				p = submit(t, onlyForm(t, p), tc.login)
			}
			if p.Status != tc.wantStatus || !strings.Contains(p.Body, tc.wantBody) {
				t.Errorf("status %d, want %d with %q:\n%s", p.Status, tc.wantStatus, tc.wantBody, p.Body)
			}
			if strings.Contains(p.Body, "SAMLResponse") {
				t.Error("a refused login produced a SAMLResponse")
			}
		})
	}

	t.Run("wrong_password_keeps_the_form", func(t *testing.T) {
		t.Parallel()
		id := newRequestID(t)
		p := submit(t, onlyForm(t, loginPage(t, idp, id, spEntityID, spACSURL, "rs")),
			map[string]string{"username": "alice@example.com", "password": "nope"})
		f := onlyForm(t, p)
		if f.Values.Get("request_id") != id || f.Values.Get("RelayState") != "rs" || !p.IDs["login"] {
			t.Fatalf("401 page cannot retry: %v\n%s", f.Values, p.Body)
		}
		samlResponse, _ := autoPostResponse(t, submit(t, f,
			map[string]string{"username": "alice@example.com", "password": alicePassword}))
		checkResponse(t, idp, verifiedResponse(t, samlResponse, idp.Cert), id, "alice@example.com")
	})

	t.Run("idp_initiated_wrong_password", func(t *testing.T) {
		t.Parallel()
		p := fetch(t, http.MethodGet, idp.IdPInitiatedURL("alice@example.com", "nope", ""), nil)
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, wrongPassword) {
			t.Errorf("status %d, want 401 with %q", p.Status, wrongPassword)
		}
	})
}
