package lambda_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

// idpTimeout bounds one request to the IdP.
const idpTimeout = 10 * time.Second

// signInAtIdP opens the IdP's SSO URL (the login link's Location), submits
// its login form with user's credentials, as a browser without JavaScript
// does, and returns the SAMLResponse and RelayState fields of the auto-post
// form, after checking that the form posts to acsURL.
func signInAtIdP(t *testing.T, ssoURL string, user samlidp.User, acsURL string) (samlResponse, relayState string) {
	t.Helper()
	// It follows no redirects: the IdP answers with pages, never 3xx.
	client := &http.Client{Timeout: idpTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	auto, err := samlidp.SignIn(t.Context(), client, ssoURL, user.Username, user.Password)
	if err != nil {
		t.Fatal(err)
	}
	if auto.Action != acsURL || !strings.EqualFold(auto.Method, http.MethodPost) {
		t.Fatalf("IdP's auto-post form posts (%s) to %q, want POST to the ACS %s", auto.Method, auto.Action, acsURL)
	}
	if auto.Values.Get("SAMLResponse") == "" {
		t.Fatalf("IdP's auto-post form has no SAMLResponse: %v", auto.Values)
	}
	return auto.Values.Get("SAMLResponse"), auto.Values.Get("RelayState")
}
