package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestMetadataInBrowserOrDownload: SAML tools get the registered type; a
// browser navigation gets XML it shows; ?download=1 is a file download.
// The three are different representations (Vary, ETag).
func TestMetadataInBrowserOrDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	url := base + "/v1/Accounts/" + sid + "/saml2/metadata"
	tests := []struct {
		name, query, accept, wantType, wantDisposition string
	}{
		{name: "SAML tool", accept: "*/*", wantType: "application/samlmetadata+xml"},
		{name: "browser", accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", wantType: "application/xml; charset=utf-8"},
		{name: "browser asks for the file", query: "?download=1", accept: "text/html,*/*", wantType: "application/samlmetadata+xml",
			wantDisposition: `attachment; filename="samlflex-` + sid + `-metadata.xml"`},
	}
	etags := map[string]bool{}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, url+tc.query, nil)
		r.Header.Set("Accept", tc.accept)
		resp := e.do(r)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.wantType ||
			resp.Header.Get("Content-Disposition") != tc.wantDisposition || resp.Header.Get("Vary") != "Accept" {
			t.Errorf("%s: %d %v", tc.name, resp.StatusCode, resp.Header)
		}
		etags[resp.Header.Get("ETag")] = true
	}
	if len(etags) != 2 {
		t.Errorf("ETags %v: the two content types must have two ETags (download shares the tool's)", etags)
	}
}

// TestACSTrailingSlashSaysSo: a connected app whose ACS URL ends in a
// slash gets a page that says so (destination_mismatch), not not_found;
// the login link and the metadata keep their routes.
func TestACSTrailingSlashSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := httptest.NewRequest(http.MethodPost, base+"/v1/Accounts/"+sid+"/saml2/", strings.NewReader("SAMLResponse=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if body := wantError(t, e.do(r), http.StatusForbidden, samlflex.CodeDestinationMismatch); !strings.Contains(body, "no slash at the end") {
		t.Fatalf("the page does not name the trailing slash:\n%s", body)
	}
	if resp := e.do(httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2/metadata", nil)); resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata after the slash route: %d", resp.StatusCode)
	}
	if resp := e.do(httptest.NewRequest(http.MethodGet, base+"/v1/Accounts/"+sid+"/saml2/login", nil)); resp.StatusCode != http.StatusFound {
		t.Fatalf("login link after the slash route: %d", resp.StatusCode)
	}
}
