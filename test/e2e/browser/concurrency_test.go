package browser_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/test/e2e/samlidp"
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
			// Unsolicited responses are posted directly here, as an
			// account with --idp-initiated accept takes them.
			s := newSite(t, siteOptions{idpInitiated: map[bool]string{true: "accept", false: "refuse"}[tc.idpInitiated]})
			client := &http.Client{
				Timeout: httpTimeout,
				// Redirects are steps of the flow that the test checks.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				// One connection per post, so that they really run at once.
				Transport: &http.Transport{MaxIdleConnsPerHost: parallelPosts},
			}
			t.Cleanup(client.CloseIdleConnections)

			var cookies []*http.Cookie
			var autoPost samlidp.Form
			var err error
			if tc.idpInitiated {
				autoPost, err = samlidp.GetForm(t.Context(), client, s.IdP.IdPInitiatedURL(aliceUser, alicePassword, ""), "saml-post")
			} else {
				resp := send(t, client, mustRequest(t, http.MethodGet, s.LoginURL, nil), http.StatusFound)
				cookies = resp.Cookies()
				if len(cookies) == 0 {
					t.Fatal("login link set no cookie")
				}
				autoPost, err = samlidp.SignIn(t.Context(), client, resp.Header.Get("Location"), aliceUser, alicePassword)
			}
			if err != nil {
				t.Fatal(err)
			}
			if autoPost.Action != s.ACSURL || autoPost.Values.Get("SAMLResponse") == "" {
				t.Fatalf("IdP's auto-post form posts %v to %s, want a SAMLResponse to %s", autoPost.Values, autoPost.Action, s.ACSURL)
			}
			body := autoPost.Values.Encode()

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
