package browser_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	parallelPosts = 50
	httpTimeout   = 15 * time.Second
)

// TestConcurrentPostsOfOneResponse posts one valid Response to the ACS 50
// times at once, with what a browser would send: exactly one login may
// pass. It needs no browser: net/http plays the browser and the IdP's
// pages are read as forms.
func TestConcurrentPostsOfOneResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		idpInitiated bool
	}{
		{name: "sp_initiated", idpInitiated: false},
		{name: "idp_initiated", idpInitiated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{allowIdPInitiated: tc.idpInitiated})
			client := &http.Client{
				Timeout: httpTimeout,
				// Redirects are steps of the flow that the test checks.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				// One connection per post, so that they really run at once.
				Transport: &http.Transport{MaxIdleConnsPerHost: parallelPosts},
			}
			t.Cleanup(client.CloseIdleConnections)

			var cookies []*http.Cookie
			var autoPost htmlForm
			if tc.idpInitiated {
				autoPost = getForm(t, client, s.IdP.IdPInitiatedURL(aliceUser, alicePassword, ""), "saml-post")
			} else {
				resp := send(t, client, mustRequest(t, http.MethodGet, s.LoginURL, nil), http.StatusFound)
				cookies = resp.Cookies()
				if len(cookies) == 0 {
					t.Fatal("login link set no cookie")
				}
				login := getForm(t, client, resp.Header.Get("Location"), "")
				autoPost = postForm(t, client, login, url.Values{"username": {aliceUser}, "password": {alicePassword}}, "saml-post")
			}
			if autoPost.action != s.ACSURL || autoPost.values.Get("SAMLResponse") == "" {
				t.Fatalf("IdP's auto-post form posts %v to %s, want a SAMLResponse to %s", autoPost.values, autoPost.action, s.ACSURL)
			}
			body := autoPost.values.Encode()

			type result struct {
				status   int
				code     string
				location string
				err      error
			}
			reqs := make([]*http.Request, parallelPosts)
			for i := range reqs {
				reqs[i] = mustRequest(t, http.MethodPost, s.ACSURL, strings.NewReader(body))
				reqs[i].Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for _, c := range cookies {
					reqs[i].AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
				}
			}
			results := make([]result, parallelPosts)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, req := range reqs {
				wg.Go(func() {
					<-start
					resp, err := client.Do(req)
					if err != nil {
						results[i] = result{err: err}
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					results[i] = result{status: resp.StatusCode, code: resp.Header.Get("X-Samlflex-Error"), location: resp.Header.Get("Location")}
				})
			}
			close(start)
			wg.Wait()

			logins, replays := 0, 0
			for i, r := range results {
				switch {
				case r.err != nil:
					t.Errorf("post %d: %v", i, r.err)
				case r.status == http.StatusSeeOther:
					logins++
					if !strings.HasPrefix(r.location, s.Landing.URL+"#token=") {
						t.Errorf("post %d: 303 to %.80s…, want the start URL with #token=", i, r.location)
					}
				case r.status >= 400 && r.status < 500 && r.code == "assertion_replayed":
					replays++
				default:
					t.Errorf("post %d: status %d, X-Samlflex-Error %q; want 303, or 4xx with assertion_replayed", i, r.status, r.code)
				}
			}
			if logins != 1 || replays != parallelPosts-1 {
				t.Errorf("%d logins and %d assertion_replayed refusals, want 1 and %d", logins, replays, parallelPosts-1)
			}
		})
	}
}

func mustRequest(t *testing.T, method, rawURL string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// send sends req and fails t unless the status is want. The body is
// read here; the caller may read it again and need not close it.
func send(t *testing.T, client *http.Client, req *http.Request, want int) *http.Response {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d:\n%s", req.Method, req.URL, resp.StatusCode, want, b)
	}
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp
}

// htmlForm is a <form> as a browser would submit it.
type htmlForm struct {
	action string // absolute
	values url.Values
}

// getForm fetches a page and returns its form with the given id ("" for
// the only form).
func getForm(t *testing.T, client *http.Client, rawURL, id string) htmlForm {
	t.Helper()
	resp := send(t, client, mustRequest(t, http.MethodGet, rawURL, nil), http.StatusOK)
	return findForm(t, resp, id)
}

// postForm submits f with fields set and returns the answer's form with
// the given id.
func postForm(t *testing.T, client *http.Client, f htmlForm, set url.Values, id string) htmlForm {
	t.Helper()
	values := url.Values{}
	for k, v := range f.values {
		values[k] = v
	}
	for k, v := range set {
		values[k] = v
	}
	req := mustRequest(t, http.MethodPost, f.action, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return findForm(t, send(t, client, req, http.StatusOK), id)
}

func findForm(t *testing.T, resp *http.Response, id string) htmlForm {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	forms, err := parseForms(string(b))
	if err != nil {
		t.Fatalf("%s: %v\n%s", resp.Request.URL, err, b)
	}
	var found []htmlForm
	for _, f := range forms {
		if id == "" || f.id == id {
			action, err := resp.Request.URL.Parse(f.action)
			if err != nil {
				t.Fatalf("%s: form action %q: %v", resp.Request.URL, f.action, err)
			}
			found = append(found, htmlForm{action: action.String(), values: f.values})
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d forms with id %q, want 1:\n%s", resp.Request.URL, len(found), id, b)
	}
	return found[0]
}

type parsedForm struct {
	id, action string
	values     url.Values // every named <input>
}

// parseForms reads the forms of a page with the standard library's XML
// decoder in its lenient HTML mode (x/net/html is not in go.mod). It is
// enough for the IdP's small, well-formed pages.
func parseForms(page string) ([]parsedForm, error) {
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var forms []parsedForm
	in := false
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
				in = true
				forms = append(forms, parsedForm{id: attr("id"), action: attr("action"), values: url.Values{}})
			case "input":
				if in && attr("name") != "" {
					forms[len(forms)-1].values.Set(attr("name"), attr("value"))
				}
			}
		case xml.EndElement:
			if strings.EqualFold(el.Name.Local, "form") {
				in = false
			}
		}
	}
}
