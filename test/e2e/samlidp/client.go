package samlidp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The browser's side of the IdP, for tests that drive it with net/http
// instead of a browser: its pages are read as HTML forms and submitted as a
// browser without JavaScript would.

// maxPage bounds the body Fetch reads; the IdP's pages are a few KiB.
const maxPage = 1 << 20

// Form is an HTML <form> as a browser submits it.
type Form struct {
	ID     string
	Method string     // as written, e.g. "post"
	Action string     // where the form posts, absolute (resolved against the page's URL)
	Values url.Values // every named <input>'s value
}

// Page is an answer of the IdP as a browser sees it.
type Page struct {
	URL    *url.URL // of the request that answered, the base of form actions
	Status int
	Body   string
	// Forms and IDs are read from an HTML (text/html) page and are empty
	// otherwise. IDs holds every element id on the page.
	Forms []Form
	IDs   map[string]bool
}

// Fetch sends a request with client and reads the answer, whatever its
// status. With form nil it sends no body; otherwise form is the
// url-encoded body. A nil client means http.DefaultClient. The error is
// for a request that got no answer or an HTML page that cannot be read.
func Fetch(ctx context.Context, client *http.Client, method, rawURL string, form url.Values) (*Page, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	p := &Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(b)}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return p, nil
	}
	if p.Forms, p.IDs, err = parseHTML(p.Body); err != nil {
		return nil, fmt.Errorf("%s %s: parse HTML: %w\n%s", method, rawURL, err, b)
	}
	for i, f := range p.Forms {
		action, err := p.URL.Parse(f.Action)
		if err != nil {
			return nil, fmt.Errorf("%s: form action %q: %w", p.URL, f.Action, err)
		}
		p.Forms[i].Action = action.String()
	}
	return p, nil
}

// Form returns the only form on the page with the given id, or with id ""
// the only form on the page.
func (p *Page) Form(id string) (Form, error) {
	var found []Form
	for _, f := range p.Forms {
		if id == "" || f.ID == id {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		return Form{}, fmt.Errorf("%s: %d forms with id %q, want 1:\n%s", p.URL, len(found), id, p.Body)
	}
	return found[0], nil
}

// Submit posts f as a browser would: its Values, with the fields in set
// replacing theirs, url-encoded to its Action. (The IdP's forms all post.)
func Submit(ctx context.Context, client *http.Client, f Form, set url.Values) (*Page, error) {
	values := make(url.Values, len(f.Values)+len(set))
	for k, v := range f.Values {
		values[k] = slices.Clone(v)
	}
	for k, v := range set {
		values[k] = slices.Clone(v)
	}
	return Fetch(ctx, client, http.MethodPost, f.Action, values)
}

// GetForm GETs rawURL, which must answer 200, and returns the page's form
// with the given id ("" for the only form on the page).
func GetForm(ctx context.Context, client *http.Client, rawURL, id string) (Form, error) {
	p, err := Fetch(ctx, client, http.MethodGet, rawURL, nil)
	if err != nil {
		return Form{}, err
	}
	if err := p.wantOK(); err != nil {
		return Form{}, err
	}
	return p.Form(id)
}

// SignIn logs username in as a browser would after an SP-initiated login
// has redirected it to ssoURL (the SSO URL with the SP's SAMLRequest and
// RelayState): it GETs the login page, submits its form with the
// credentials and returns the auto-post form (id saml-post) of the answer.
// That form's Action is the ACS URL the IdP posts to, absolute, and its
// Values are SAMLResponse and, when the SP sent one, RelayState: what the
// browser posts to the ACS. Both pages must come with status 200, so a
// refused login is an error; checking the form (its Action, Method and
// fields) is the caller's.
func SignIn(ctx context.Context, client *http.Client, ssoURL, username, password string) (Form, error) {
	login, err := GetForm(ctx, client, ssoURL, "")
	if err != nil {
		return Form{}, err
	}
	if login.Values.Get("request_id") == "" {
		return Form{}, fmt.Errorf("%s: the IdP's login form has no request_id (fields %v): the IdP did not take the AuthnRequest", ssoURL, login.Values)
	}
	answer, err := Submit(ctx, client, login, url.Values{"username": {username}, "password": {password}})
	if err != nil {
		return Form{}, err
	}
	if err := answer.wantOK(); err != nil {
		return Form{}, err
	}
	return answer.Form("saml-post")
}

func (p *Page) wantOK() error {
	if p.Status != http.StatusOK {
		return fmt.Errorf("%s: status %d, want 200:\n%s", p.URL, p.Status, p.Body)
	}
	return nil
}

// parseHTML returns the forms of an HTML page, their actions as written,
// and every element id on it. It uses the standard library's XML decoder
// in its lenient HTML mode (go.mod has no HTML parser), which is enough
// for the IdP's small, well-formed pages.
func parseHTML(page string) ([]Form, map[string]bool, error) {
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var forms []Form
	ids := map[string]bool{}
	inForm := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return forms, ids, nil
		}
		if err != nil {
			return nil, nil, err
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
			if id := attr("id"); id != "" {
				ids[id] = true
			}
			switch strings.ToLower(el.Name.Local) {
			case "form":
				inForm = true
				forms = append(forms, Form{ID: attr("id"), Method: attr("method"), Action: attr("action"), Values: url.Values{}})
			case "input":
				if inForm && attr("name") != "" {
					forms[len(forms)-1].Values.Set(attr("name"), attr("value"))
				}
			}
		case xml.EndElement:
			if strings.EqualFold(el.Name.Local, "form") {
				inForm = false
			}
		}
	}
}
