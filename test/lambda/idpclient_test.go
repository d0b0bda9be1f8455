package lambda_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

// The browser's side of the IdP: net/http and the IdP's HTML forms, as a
// browser without JavaScript submits them. (test/e2e/samlidp has the same
// helpers in its _test.go files, which other packages cannot import.)

// idpTimeout bounds one request to the IdP.
const idpTimeout = 10 * time.Second

// signInAtIdP opens the IdP's SSO URL (the login link's Location), submits
// its login form with user's credentials and returns the SAMLResponse and
// RelayState fields of the auto-post form, after checking that the form
// posts to acsURL.
func signInAtIdP(t *testing.T, ssoURL string, user samlidp.User, acsURL string) (samlResponse, relayState string) {
	t.Helper()
	login := fetchPage(t, http.MethodGet, ssoURL, nil)
	f := onlyForm(t, login)
	if f.inputs.Get("request_id") == "" {
		t.Fatalf("IdP login form has no request_id: the IdP did not take the AuthnRequest:\n%s", login.body)
	}
	action, err := login.url.Parse(f.action)
	if err != nil {
		t.Fatal(err)
	}
	f.inputs.Set("username", user.Username)
	f.inputs.Set("password", user.Password)
	post := fetchPage(t, http.MethodPost, action.String(), f.inputs)
	auto := onlyForm(t, post)
	if auto.action != acsURL || !strings.EqualFold(auto.method, http.MethodPost) {
		t.Fatalf("IdP's auto-post form posts (%s) to %q, want POST to the ACS %s", auto.method, auto.action, acsURL)
	}
	if auto.inputs.Get("SAMLResponse") == "" {
		t.Fatalf("IdP's auto-post form has no SAMLResponse:\n%s", post.body)
	}
	return auto.inputs.Get("SAMLResponse"), auto.inputs.Get("RelayState")
}

type htmlPage struct {
	url   *url.URL
	body  string
	forms []htmlForm
}

type htmlForm struct {
	action, method string
	inputs         url.Values // every named <input>'s value
}

// fetchPage requests an IdP page; anything but 200 with HTML fails t. It
// follows no redirects: the IdP answers with pages, never 3xx.
func fetchPage(t *testing.T, method, rawURL string, form url.Values) htmlPage {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{Timeout: idpTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s %s: %d %s, want 200 with HTML:\n%s", method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	p := htmlPage{url: req.URL, body: string(b)}
	if p.forms, err = parseForms(p.body); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, req.URL.Path, err, b)
	}
	return p
}

func onlyForm(t *testing.T, p htmlPage) htmlForm {
	t.Helper()
	if len(p.forms) != 1 {
		t.Fatalf("IdP page %s has %d forms, want 1:\n%s", p.url.Path, len(p.forms), p.body)
	}
	return p.forms[0]
}

// parseForms reads the forms of an HTML page with the standard library's
// XML decoder in its lenient HTML mode (go.mod has no HTML parser).
func parseForms(body string) ([]htmlForm, error) {
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var forms []htmlForm
	inForm := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return forms, nil
		}
		if err != nil {
			return nil, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range el.Attr {
					if strings.EqualFold(a.Name.Local, name) {
						return a.Value
					}
				}
				return ""
			}
			switch strings.ToLower(el.Name.Local) {
			case "form":
				inForm = true
				forms = append(forms, htmlForm{action: attr("action"), method: attr("method"), inputs: url.Values{}})
			case "input":
				if inForm && attr("name") != "" {
					forms[len(forms)-1].inputs.Set(attr("name"), attr("value"))
				}
			}
		case xml.EndElement:
			if strings.EqualFold(el.Name.Local, "form") {
				inForm = false
			}
		}
	}
}
