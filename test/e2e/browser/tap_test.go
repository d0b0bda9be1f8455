package browser_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// acsTap pauses the browser's requests to one ACS URL with the DevTools
// Fetch domain, so that a test can read, keep or change the SAMLResponse
// that the IdP's page posts (the way an attacker in the browser could) and
// see samlflex's answer. Requests are paused twice: before they are sent
// (Next) and when the answer arrives (in Send).
type acsTap struct {
	t    *testing.T
	ctx  context.Context
	next func() (fetch.EventRequestPaused, error, bool)
}

// pausedPost is one POST to the ACS, held in the browser.
type pausedPost struct {
	id   fetch.RequestID
	Form url.Values // as the browser would send it
}

// acsAnswer is samlflex's answer to one POST, as the browser got it.
type acsAnswer struct {
	Status int
	Header http.Header
}

func tapACS(ctx context.Context, t *testing.T, acsURL string) *acsTap {
	t.Helper()
	// Subscribe before enabling, so that no event is missed.
	next, stop := iter.Pull2(chromedp.Events(ctx, fetch.RequestPaused))
	t.Cleanup(stop)
	// The pattern is the whole URL; it has no wildcard characters.
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: acsURL, RequestStage: fetch.RequestStageRequest},
		{URLPattern: acsURL, RequestStage: fetch.RequestStageResponse},
	}})
	if err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
	return &acsTap{t: t, ctx: ctx, next: next}
}

func (a *acsTap) event(stage string) fetch.EventRequestPaused {
	a.t.Helper()
	ev, err, ok := a.next()
	switch {
	case !ok:
		a.t.Fatalf("waiting for the browser's request to the ACS (%s): the event stream ended", stage)
	case err != nil:
		a.t.Fatalf("waiting for the browser's request to the ACS (%s): %v", stage, timeoutHint(err))
	}
	return ev
}

// Next waits for the browser's next POST to the ACS and holds it.
func (a *acsTap) Next() pausedPost {
	a.t.Helper()
	ev := a.event("request")
	if ev.ResponseStatusCode != 0 || ev.ResponseErrorReason != "" {
		a.t.Fatalf("ACS request paused at the response stage (status %d, %s) before its request stage", ev.ResponseStatusCode, ev.ResponseErrorReason)
	}
	if ev.Request.Method != http.MethodPost {
		a.t.Fatalf("browser sent %s %s, want POST", ev.Request.Method, ev.Request.URL)
	}
	var body strings.Builder
	for _, e := range ev.Request.PostDataEntries {
		body.Write(e.Bytes)
	}
	form, err := url.ParseQuery(body.String())
	if err != nil || form.Get("SAMLResponse") == "" {
		a.t.Fatalf("POST to the ACS has no SAMLResponse form field (%v): %.200q", err, body.String())
	}
	return pausedPost{id: ev.RequestID, Form: form}
}

// Send lets p go on with form as its body (p.Form to send it unchanged)
// and returns samlflex's answer. The browser then shows the answer.
func (a *acsTap) Send(p pausedPost, form url.Values) acsAnswer {
	a.t.Helper()
	_, err := chromedp.Call(a.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{
		RequestID: p.id, PostData: []byte(form.Encode()),
	})
	if err != nil {
		a.t.Fatalf("Fetch.continueRequest: %v", err)
	}
	ev := a.event("response")
	if ev.ResponseErrorReason != "" {
		a.t.Fatalf("POST to the ACS failed in the browser: %s", ev.ResponseErrorReason)
	}
	ans := acsAnswer{Status: int(ev.ResponseStatusCode), Header: http.Header{}}
	for _, h := range ev.ResponseHeaders {
		ans.Header.Add(h.Name, h.Value)
	}
	if _, err := chromedp.Call(a.ctx, fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: ev.RequestID}); err != nil {
		a.t.Fatalf("Fetch.continueResponse: %v", err)
	}
	return ans
}

// samlResponseXML decodes a SAMLResponse form value.
func samlResponseXML(t *testing.T, form url.Values) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	return string(raw)
}

// withSAMLResponse returns a copy of form with SAMLResponse set to the
// base64 of xml.
func withSAMLResponse(form url.Values, xml string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	out.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(xml)))
	return out
}

// outcome is the page the browser ended on after a POST to the ACS.
type outcome struct {
	URL string `json:"url"`
	// On the landing page: who logged in, or why the token was refused.
	Identity string `json:"identity"`
	Roles    string `json:"roles"`
	FullName string `json:"fullName"`
	Email    string `json:"email"`
	Error    string `json:"error"`
	// On samlflex's error page: the code, and all the text.
	Code string `json:"code"`
	Text string `json:"text"`
}

// waitOutcome waits until the browser shows the landing page, done with the
// token, or samlflex's error page (whose code is in the element id code).
func waitOutcome(ctx context.Context, t *testing.T) outcome {
	t.Helper()
	do(ctx, t, "wait for the landing page or the error page", chromedp.WaitReady(chromedp.CSS("#done, #code")))
	out, err := chromedp.Run(ctx, chromedp.Evaluate[outcome](`(() => {
  const v = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : ""; };
  return {url: location.href, identity: v("identity"), roles: v("roles"), fullName: v("full-name"),
    email: v("email"), error: v("error"), code: v("code"), text: document.body.innerText};
})()`))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return out
}

// wantRefused checks that samlflex refused a POST with code, both in the
// answer (status 4xx, X-Samlflex-Error) and on the page the browser shows.
func wantRefused(t *testing.T, ans acsAnswer, out outcome, code string) {
	t.Helper()
	if ans.Status < 400 || ans.Status >= 500 {
		t.Errorf("ACS answered %d, want 4xx", ans.Status)
	}
	if got := ans.Header.Get("X-Samlflex-Error"); got != code {
		t.Errorf("X-Samlflex-Error = %q, want %q", got, code)
	}
	if out.Code != code || !strings.Contains(out.Text, code) {
		t.Errorf("browser shows code %q, want the error page with %q; page text:\n%s", out.Code, code, out.Text)
	}
}

// siteCookies returns the cookies that the browser keeps for samlflex's
// host. The landing page, the only other server on 127.0.0.1, sets none.
func siteCookies(ctx context.Context, t *testing.T) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatalf("Storage.getCookies: %v", err)
	}
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Domain == "127.0.0.1" {
			out = append(out, c)
		}
	}
	return out
}

// setCookies puts cookies back into the browser, as they were.
func setCookies(ctx context.Context, t *testing.T, cookies []*network.Cookie) {
	t.Helper()
	params := make([]*network.CookieParam, 0, len(cookies))
	for _, c := range cookies {
		params = append(params, &network.CookieParam{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite})
	}
	if _, err := chromedp.Call(ctx, storage.SetCookies, storage.SetCookiesParams{Cookies: params}); err != nil {
		t.Fatalf("Storage.setCookies: %v", err)
	}
}

// postFromPage makes the current page post form to action, as the IdP's
// auto-post page does. It empties the page first, so that waitOutcome
// waits for the answer rather than finding the current page done.
func postFromPage(ctx context.Context, t *testing.T, action string, form url.Values) {
	t.Helper()
	fields := map[string]string{}
	for k := range form {
		fields[k] = form.Get(k)
	}
	args, err := json.Marshal([]any{action, fields})
	if err != nil {
		t.Fatal(err)
	}
	do(ctx, t, "post the form from the page", chromedp.Evaluate[chromedp.Void](`((action, fields) => {
  const f = document.createElement("form");
  f.method = "post";
  f.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const i = document.createElement("input");
    i.type = "hidden";
    i.name = name;
    i.value = value;
    f.appendChild(i);
  }
  document.body.replaceChildren(f);
  f.submit();
})(...`+string(args)+`)`))
}
