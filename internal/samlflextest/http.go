package samlflextest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// ACSURL is the assertion consumer service URL of the test account: the
// Destination and Recipient of the golden responses.
const ACSURL = BaseURL + "/v1/Accounts/" + AccountSID + "/saml2"

// ACSPost is the browser's form POST of samlResponse (base64) and, unless
// empty, relay as RelayState to ACSURL, ready for a handler's ServeHTTP.
func ACSPost(samlResponse, relay string) *http.Request {
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relay != "" {
		form.Set("RelayState", relay)
	}
	r := httptest.NewRequest(http.MethodPost, ACSURL, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
