package httpapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// formCase is one request for the differential test: what the ACS handler
// did before parseACSForm (MaxBytesReader, ParseForm, PostForm.Get) and
// parseACSForm must agree on it.
type formCase struct {
	method string // "" is POST
	ctype  string // "" sends no Content-Type
	query  string // the URL's raw query
	body   []byte
	// cl is the declared Content-Length: 0 the body's length, -1 none
	// (chunked), below -1 zero, above 0 itself (the tests' bodies are
	// bytes.Readers, which yield the body whatever was declared).
	cl    int64
	limit int64 // 0 is 1 MiB
}

func (c formCase) request() *http.Request {
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequest(method, "/v1/Accounts/"+sid+"/saml2", bytes.NewReader(c.body))
	r.URL.RawQuery = c.query
	if c.ctype != "" {
		r.Header.Set("Content-Type", c.ctype)
	}
	switch {
	case c.cl == 0:
		r.ContentLength = int64(len(c.body))
	case c.cl < -1:
		r.ContentLength = 0
	default:
		r.ContentLength = c.cl
	}
	return r
}

func (c formCase) String() string {
	return fmt.Sprintf("method %q Content-Type %q query %q Content-Length %d limit %d body %q", c.method, c.ctype, c.query, c.cl, c.lim(), c.body)
}

func (c formCase) lim() int64 {
	if c.limit == 0 {
		return 1 << 20
	}
	return c.limit
}

// viaParseForm is what handleACS did before parseACSForm.
func viaParseForm(c formCase) (string, string, error) {
	r := c.request()
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, c.lim())
	err := r.ParseForm()
	return r.PostForm.Get("SAMLResponse"), r.PostForm.Get("RelayState"), err
}

// checkSameAsParseForm fails t unless parseACSForm and ParseForm give the
// same error (nil, or the same text and MaxBytesError-ness) and, without
// one, the same first SAMLResponse and RelayState.
func checkSameAsParseForm(t *testing.T, c formCase) {
	t.Helper()
	wantResp, wantRelay, wantErr := viaParseForm(c)
	resp, relay, err := parseACSForm(httptest.NewRecorder(), c.request(), c.lim())
	var mb1, mb2 *http.MaxBytesError
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%v:\nerror %v, ParseForm's %v", c, err, wantErr)
	case err != nil && (err.Error() != wantErr.Error() || errors.As(err, &mb1) != errors.As(wantErr, &mb2)):
		t.Fatalf("%v:\nerror %q (%T), ParseForm's %q (%T)", c, err, err, wantErr, wantErr)
	case err != nil && (resp != nil || relay != ""):
		t.Fatalf("%v: values %q %q with error %v", c, resp, relay, err)
	case err == nil && (string(resp) != wantResp || relay != wantRelay):
		t.Fatalf("%v:\nSAMLResponse %q RelayState %q\nParseForm's   %q %q", c, resp, relay, wantResp, wantRelay)
	case len(resp) != cap(resp):
		// An append by whoever gets it must not run over the body buffer.
		t.Fatalf("SAMLResponse has capacity %d beyond its length %d", cap(resp), len(resp))
	}
}

// realForm is a browser's POST of the golden signed response: the base64's
// '+', '/' and '=' arrive as %2B, %2F and %3D.
func realForm(tb testing.TB) []byte {
	tb.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(samlflextest.Golden(tb, "response-signed.xml")))
	return []byte(url.Values{"SAMLResponse": {b64}, "RelayState": {"https://flex.twilio.com/agent-desktop?x=1&y=2"}}.Encode())
}

// formSeeds are the bodies both tests start from.
var formSeeds = []string{
	"",
	"SAMLResponse=abc",
	"SAMLResponse=PHNhbWw%2BCg%3D%3D&RelayState=%2Fdesk%3Fa%3Db",
	"RelayState=r&SAMLResponse=a+b%20c",
	"SAMLResponse=%2B%2F%3D%2b%2f%3d",
	"SAMLResponse=++",
	"SAML%52esponse=key+escaped&Relay%53tate=too",
	"SAMLResponse+=not+it&SAMLResponse=it",
	"SAMLResponse=first&SAMLResponse=second&RelayState=r1&RelayState=r2",
	"SAMLResponse=&SAMLResponse=second",
	"SAMLResponse&SAMLResponse=second",
	"SAMLResponse==x=y",
	"&&SAMLResponse=x&&",
	"=&=x&SAMLResponse=x",
	"SAMLResponse=x;y",
	"SAMLResponse=x&a=b;c",
	"a;b=c&SAMLResponse=x",
	"%&;", // the semicolon error wins over an earlier escape error
	"SAMLResponse=%zz&a=b;c&d=%yy",
	"SAMLResponse=x&RelayState=%zz",
	"SAMLResponse=x&other=%",
	"SAMLResponse=x&other=%4",
	"SAMLResponse=x&other=%4g",
	"SAMLResponse=x%",
	"SAMLResponse=x%a",
	"SAMLResponse=%%41",
	"%zz=x&SAMLResponse=y",
	"SAMLResponse=x&%=y",
	"SAMLResponse=x&a%=y%zz",
	"SAMLResponse=x&a=%zz&b=%yy",
	"SAMLResponse=%e2%82%ac%C3%A9+%00%ff",
	"SAMLResponse=\x00\xff\n&RelayState=\r\n",
	"SAMLResponse=x&RelayState=",
	"RelayState=only",
	"SAMLResponse=x\x00%",
}

func TestParseACSFormMatchesParseForm(t *testing.T) {
	t.Parallel()
	real := realForm(t)
	var cases []formCase
	for _, s := range formSeeds {
		cases = append(cases, formCase{ctype: formContentType, body: []byte(s)})
	}
	big := "SAMLResponse=" + strings.Repeat("PHNhbWw%2B", 100000) + "&RelayState=" + strings.Repeat("%2F", 1000)
	many := strings.Repeat("a=b&", 9998) + "SAMLResponse=x"
	cases = append(cases,
		formCase{ctype: formContentType, body: real},
		formCase{ctype: formContentType, body: real, cl: -1},                      // chunked
		formCase{ctype: formContentType, body: real, cl: 100},                     // declared too short
		formCase{ctype: formContentType, body: real, cl: 1 << 40},                 // declared too long
		formCase{ctype: formContentType, body: real, limit: 1000},                 // over the limit
		formCase{ctype: formContentType, body: real, cl: -1, limit: 1000},         // over the limit, chunked
		formCase{ctype: formContentType, body: real, limit: int64(len(real))},     // at the limit
		formCase{ctype: formContentType, body: real, limit: int64(len(real) - 1)}, // one over
		formCase{ctype: formContentType, body: []byte(big), limit: 4 << 20},
		formCase{ctype: formContentType, body: []byte(big), cl: -1, limit: 4 << 20},
		formCase{ctype: formContentType, body: []byte(many)},          // 9,999 pairs
		formCase{ctype: formContentType, body: []byte("a=b&" + many)}, // 10,000
		formCase{ctype: formContentType, body: []byte("&&" + many)},   // 10,001: over ParseQuery's cap
		// Content types.
		formCase{body: []byte("SAMLResponse=x")}, // none: application/octet-stream
		formCase{ctype: "Application/X-WWW-Form-URLEncoded; charset=UTF-8", body: []byte("SAMLResponse=x")},
		formCase{ctype: " application/x-www-form-urlencoded ", body: []byte("SAMLResponse=x")},
		formCase{ctype: "application/x-www-form-urlencoded;", body: []byte("SAMLResponse=x")},
		formCase{ctype: "application/x-www-form-urlencoded; charset", body: []byte("SAMLResponse=x")},
		formCase{ctype: "application/x-www-form-urlencoded; charset", body: []byte("SAMLResponse=%zz")},
		formCase{ctype: "application/x-www-form-urlencoded; charset", body: real, limit: 100},
		formCase{ctype: "multipart/form-data; boundary=x", body: []byte("--x\r\nContent-Disposition: form-data; name=\"SAMLResponse\"\r\n\r\nx\r\n--x--\r\n")},
		formCase{ctype: "text/plain", body: []byte("SAMLResponse=x")},
		formCase{ctype: "text/plain", body: real, limit: 100},
		formCase{ctype: "application/json", body: []byte(`{"SAMLResponse":"x"}`)},
		formCase{ctype: "bogus", body: []byte("SAMLResponse=x")},
		formCase{ctype: "/", body: []byte("SAMLResponse=x")},
		formCase{ctype: ";", body: []byte("SAMLResponse=x")},
		// Methods: only POST, PUT and PATCH bodies are forms (the route
		// takes POST only).
		formCase{method: http.MethodPut, ctype: formContentType, body: []byte("SAMLResponse=x")},
		formCase{method: http.MethodPatch, ctype: formContentType, body: []byte("SAMLResponse=x")},
		formCase{method: http.MethodGet, ctype: formContentType, body: []byte("SAMLResponse=x")},
		formCase{method: http.MethodDelete, ctype: formContentType, body: []byte("SAMLResponse=%zz")},
		// The URL's query: parsed, and its error returned when the body
		// has none, but its values are not PostForm's.
		formCase{ctype: formContentType, query: "SAMLResponse=q", body: []byte("SAMLResponse=x")},
		formCase{ctype: formContentType, query: "SAMLResponse=q"},
		formCase{ctype: formContentType, query: "a=%zz", body: []byte("SAMLResponse=x")},
		formCase{ctype: formContentType, query: "a;b", body: []byte("SAMLResponse=x")},
		formCase{ctype: formContentType, query: "a=%zz", body: []byte("SAMLResponse=%yy")},
		formCase{ctype: "text/plain", query: "a=%zz", body: []byte("SAMLResponse=x")},
		formCase{ctype: formContentType, query: "a=%zz", body: real, limit: 10},
		formCase{ctype: formContentType, query: strings.Repeat("&", 10000), body: []byte("SAMLResponse=x")},
	)
	for _, c := range cases {
		checkSameAsParseForm(t, c)
	}
}

// TestParseACSFormParamCap: GODEBUG urlmaxqueryparams changes ParseQuery's
// cap on the number of pairs, and parseACSForm follows it (for the body
// and for the URL's query, an empty one included).
func TestParseACSFormParamCap(t *testing.T) {
	t.Setenv("GODEBUG", "urlmaxqueryparams=3")
	if _, err := url.ParseQuery("a&b&c"); err == nil {
		t.Fatal("GODEBUG urlmaxqueryparams=3 is not in force: the test would prove nothing")
	}
	for _, body := range []string{"SAMLResponse=x&b", "SAMLResponse=x&b&c", "SAMLResponse=x&b&c&d"} {
		checkSameAsParseForm(t, formCase{ctype: formContentType, body: []byte(body)})
		checkSameAsParseForm(t, formCase{ctype: formContentType, query: "a&b&c", body: []byte(body)})
	}
	t.Setenv("GODEBUG", "urlmaxqueryparams=1")
	if _, err := url.ParseQuery(""); err == nil {
		t.Fatal("GODEBUG urlmaxqueryparams=1 is not in force")
	}
	checkSameAsParseForm(t, formCase{ctype: formContentType, body: []byte("SAMLResponse=x")})
	checkSameAsParseForm(t, formCase{ctype: formContentType, body: []byte("SAMLResponse=x&")})
	checkSameAsParseForm(t, formCase{ctype: "text/plain", body: []byte("SAMLResponse=x")})
	t.Setenv("GODEBUG", "urlmaxqueryparams=0") // no cap
	checkSameAsParseForm(t, formCase{ctype: formContentType, body: []byte(strings.Repeat("&", 20000) + "SAMLResponse=x")})
}

// FuzzACSForm: parseACSForm against what the handler did before it
// (MaxBytesReader, ParseForm, PostForm.Get) on the same request. The seeds
// run in every `go test` (scripts/test.sh); `go test -run '^$' -fuzz
// FuzzACSForm ./internal/httpapi` searches for more.
func FuzzACSForm(f *testing.F) {
	for _, s := range formSeeds {
		f.Add([]byte(s), formContentType, "", int64(0), int64(0))
	}
	f.Add(realForm(f), formContentType, "", int64(0), int64(0))
	f.Add(realForm(f), formContentType, "", int64(-1), int64(5000))
	f.Add(realForm(f), formContentType, "RelayState=%zz", int64(200), int64(0))
	f.Add([]byte("SAMLResponse=x&"+strings.Repeat("&", 10000)), formContentType, "", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=x"), "", "", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=x"), "application/x-www-form-urlencoded; charset=utf-8", "", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=%zz"), "application/x-www-form-urlencoded; =", "", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=x"), "multipart/form-data; boundary=b", "", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=x"), "text/plain;;", "", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=x"), formContentType, "a;b", int64(0), int64(0))
	f.Add([]byte("SAMLResponse=x"), formContentType, "%", int64(-1), int64(3))
	f.Fuzz(func(t *testing.T, body []byte, ctype, query string, cl, limit int64) {
		if limit <= 0 {
			limit = 0 // 1 MiB
		}
		checkSameAsParseForm(t, formCase{ctype: ctype, query: query, body: body, cl: cl, limit: limit})
	})
}

// TestACSFormErrors: the handler's answers to forms it cannot use, through
// parseACSForm.
func TestACSFormErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(a *samlflex.Account) { a.MaxResponseBytes = 1000 })
	tests := []struct {
		name   string
		ctype  string
		body   string
		status int
		code   samlflex.Code
	}{
		{"bad escape after the fields", formContentType, "SAMLResponse=PHNhbWw%2B&RelayState=x&z=%zz", 400, samlflex.CodeBadRequest},
		{"semicolon", formContentType, "SAMLResponse=PHNhbWw%2B;RelayState=x", 400, samlflex.CodeBadRequest},
		{"empty first SAMLResponse", formContentType, "SAMLResponse=&SAMLResponse=PHNhbWw%2B", 400, samlflex.CodeBadRequest},
		{"multipart", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"SAMLResponse\"\r\n\r\nPHNhbWw\r\n--b--\r\n", 400, samlflex.CodeBadRequest},
		{"no Content-Type", "", "SAMLResponse=PHNhbWw%2B", 400, samlflex.CodeBadRequest},
		{"bad media parameter", formContentType + "; x", "SAMLResponse=PHNhbWw%2B", 400, samlflex.CodeBadRequest},
		{"bad media parameter, body over its cap", formContentType + "; x", "SAMLResponse=" + strings.Repeat("A", int(BodyLimit(1000))), 400, samlflex.CodeBadRequest},
		{"body over its cap", formContentType, "SAMLResponse=" + strings.Repeat("A", int(BodyLimit(1000))), 413, samlflex.CodeResponseTooLarge},
		{"value over max_response_bytes", formContentType, "SAMLResponse=" + strings.Repeat("%41", 1001), 413, samlflex.CodeResponseTooLarge},
		{"key escaped, not base64", formContentType, "SAML%52esponse=%3C", 400, samlflex.CodeMalformedResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, base+"/v1/Accounts/"+sid+"/saml2", strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			wantError(t, e.do(r), tc.status, tc.code)
		})
	}
}

// BenchmarkACSForm: the form of one real login (the golden signed response,
// as a browser posts it), read and parsed by ParseForm as the handler did,
// and by parseACSForm.
func BenchmarkACSForm(b *testing.B) {
	body := realForm(b)
	b.Logf("body %d bytes", len(body))
	tmpl := httptest.NewRequest(http.MethodPost, "/v1/Accounts/"+sid+"/saml2", nil)
	tmpl.Header.Set("Content-Type", formContentType)
	tmpl.ContentLength = int64(len(body))
	w := httptest.NewRecorder()
	limit := BodyLimit(samlflex.DefaultMaxResponseBytes)
	rd := bytes.NewReader(body)
	run := func(b *testing.B, parse func(r *http.Request) ([]byte, string, error)) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			rd.Reset(body)
			r := *tmpl
			r.Body = io.NopCloser(rd)
			resp, relay, err := parse(&r)
			if err != nil || len(resp) == 0 || relay == "" {
				b.Fatal(err, len(resp), relay)
			}
		}
	}
	b.Run("ParseForm", func(b *testing.B) {
		run(b, func(r *http.Request) ([]byte, string, error) {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := r.ParseForm(); err != nil {
				return nil, "", err
			}
			return []byte(r.PostForm.Get("SAMLResponse")), r.PostForm.Get("RelayState"), nil
		})
	})
	b.Run("parseACSForm", func(b *testing.B) {
		run(b, func(r *http.Request) ([]byte, string, error) { return parseACSForm(w, r, limit) })
	})
}

// TestReadBodyPresize: the buffer is sized from the declared length, but a
// client that declares a large body and sends little gets no more than
// presizeMax+1 bytes allocated up front, and a body of unknown length
// starts as io.ReadAll's does.
func TestReadBodyPresize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body           string
		declared       int64
		limit, wantCap int64
	}{
		{"SAMLResponse=x", 14, 1 << 20, 15},                  // exact: the EOF read fits
		{"SAMLResponse=x", 1 << 40, 1 << 20, presizeMax + 1}, // a lie, capped
		{"SAMLResponse=x", 1 << 40, 100, 101},                // the limit caps it first
		{"SAMLResponse=x", -1, 1 << 20, 512},
	} {
		b, err := readBody(strings.NewReader(tc.body), tc.declared, tc.limit)
		if err != nil || string(b) != tc.body || int64(cap(b)) != tc.wantCap {
			t.Errorf("declared %d, limit %d: %q (capacity %d, want %d), %v", tc.declared, tc.limit, b, cap(b), tc.wantCap, err)
		}
	}
}
