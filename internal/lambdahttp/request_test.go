package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// captured is what the handler saw. The body is read inside the handler and
// put back so checks can call ParseForm afterwards.
type captured struct {
	r    *http.Request
	body []byte
}

// serveEvent runs ev through an Adapter whose handler records the request.
func serveEvent(t *testing.T, ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*captured, events.APIGatewayV2HTTPResponse) {
	t.Helper()
	var got *captured
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		got = &captured{r: r, body: b}
	})
	logger, _ := samlflextest.NewLogger(slog.LevelDebug)
	resp, err := New(h, logger).Handle(ctx, ev)
	if err != nil {
		t.Fatalf("Handle returned a Lambda error: %v", err)
	}
	if got == nil {
		t.Fatalf("handler not called; response %d %q", resp.StatusCode, resp.Body)
	}
	return got, resp
}

func TestRequestTranslation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fixture string
		mutate  func(*events.APIGatewayV2HTTPRequest)
		check   func(t *testing.T, c *captured)
	}{
		{
			name:    "GET: method, URL, host and scheme",
			fixture: fixtureGET,
			check: func(t *testing.T, c *captured) {
				r := c.r
				eq(t, "method", r.Method, http.MethodGet)
				eq(t, "path", r.URL.Path, "/v1/Accounts/AC0123456789abcdef/saml2/login")
				eq(t, "raw query", r.URL.RawQuery, "relay=%2Fagent%3Ftab%3D1&x=1&x=2")
				eq(t, "relay", r.URL.Query().Get("relay"), "/agent?tab=1")
				eqSlice(t, "x", r.URL.Query()["x"], []string{"1", "2"})
				eq(t, "host", r.Host, "sso.example.com")
				eq(t, "url", r.URL.String(), "https://sso.example.com/v1/Accounts/AC0123456789abcdef/saml2/login?relay=%2Fagent%3Ftab%3D1&x=1&x=2")
				eq(t, "request uri", r.RequestURI, "/v1/Accounts/AC0123456789abcdef/saml2/login?relay=%2Fagent%3Ftab%3D1&x=1&x=2")
				eq(t, "remote addr", r.RemoteAddr, "198.51.100.7")
				eq(t, "proto", r.Proto, "HTTP/1.1")
				if _, ok := r.Header["Host"]; ok {
					t.Error("Host left in r.Header; net/http moves it to r.Host")
				}
				if r.ContentLength != 0 || len(c.body) != 0 {
					t.Errorf("GET body = %q (ContentLength %d), want none", c.body, r.ContentLength)
				}
			},
		},
		{
			name:    "GET: every cookie in the Cookies array is readable",
			fixture: fixtureGET,
			check: func(t *testing.T, c *captured) {
				want := map[string]string{
					"saml_request": "_req0001.c2lnbmF0dXJl",
					"theme":        "dark",
					"flex_hint":    "a%3Db", // net/http does not unescape cookie values.
				}
				for name, v := range want {
					ck, err := c.r.Cookie(name)
					if err != nil {
						t.Errorf("r.Cookie(%q): %v", name, err)
						continue
					}
					eq(t, "cookie "+name, ck.Value, v)
				}
				if n := len(c.r.Cookies()); n != len(want) {
					t.Errorf("got %d cookies, want %d", n, len(want))
				}
			},
		},
		{
			name:    "GET: X-Request-Id is API Gateway's, not the client's",
			fixture: fixtureGET,
			check: func(t *testing.T, c *captured) {
				eqSlice(t, "X-Request-Id", c.r.Header.Values("X-Request-Id"), []string{"Kx1aBcDeoAMEV-Q="})
			},
		},
		{
			name:    "GET: headers joined by API Gateway stay one value",
			fixture: fixtureGET,
			check: func(t *testing.T, c *captured) {
				eqSlice(t, "X-Custom", c.r.Header.Values("X-Custom"), []string{"one,two"})
				eqSlice(t, "Accept-Language", c.r.Header.Values("Accept-Language"), []string{"en-US,en;q=0.9"})
			},
		},
		{
			name:    "ACS POST: base64 form body parses",
			fixture: fixtureACSPost,
			check: func(t *testing.T, c *captured) {
				r := c.r
				eq(t, "method", r.Method, http.MethodPost)
				eq(t, "path", r.URL.Path, "/v1/Accounts/AC0123456789abcdef/saml2")
				if r.ContentLength != 577 || len(c.body) != 577 {
					t.Errorf("ContentLength = %d, body %d bytes; want 577", r.ContentLength, len(c.body))
				}
				if err := r.ParseForm(); err != nil {
					t.Fatalf("ParseForm: %v", err)
				}
				eq(t, "RelayState", r.PostForm.Get("RelayState"), "https://flex.example.com/agent-desktop?x=1&y=2")
				// The SAMLResponse contains '+' and '='; decoding it proves
				// neither was mangled on the way.
				xml, err := base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLResponse"))
				if err != nil {
					t.Fatalf("SAMLResponse is not base64: %v", err)
				}
				if !bytes.HasPrefix(xml, []byte("<samlp:Response ")) || !bytes.Contains(xml, []byte(`ID="_fixture0001"`)) {
					t.Errorf("SAMLResponse decodes to %q", xml)
				}
				ck, err := r.Cookie("saml_request")
				if err != nil {
					t.Fatalf("r.Cookie: %v", err)
				}
				eq(t, "cookie", ck.Value, "_req0001.c2lnbmF0dXJl")
				eq(t, "X-Request-Id", r.Header.Get("X-Request-Id"), "Kx1bFgHioAMEV-w=")
			},
		},
		{
			name:    "plain POST: body passes through unchanged",
			fixture: fixturePlainPost,
			check: func(t *testing.T, c *captured) {
				eq(t, "body", string(c.body), `{"reason":"ping"}`)
				eq(t, "content type", c.r.Header.Get("Content-Type"), "application/json")
				eq(t, "host", c.r.Host, "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com")
				if len(c.r.Cookies()) != 0 {
					t.Errorf("cookies = %v, want none", c.r.Cookies())
				}
			},
		},
		{
			name:    "Host falls back to DomainName",
			fixture: fixturePlainPost,
			mutate: func(ev *events.APIGatewayV2HTTPRequest) {
				delete(ev.Headers, "host")
				ev.RequestContext.DomainName = "sso.example.com"
			},
			check: func(t *testing.T, c *captured) {
				eq(t, "host", c.r.Host, "sso.example.com")
				eq(t, "url host", c.r.URL.Host, "sso.example.com")
			},
		},
		{
			name:    "path falls back to requestContext.http.path",
			fixture: fixturePlainPost,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "" },
			check: func(t *testing.T, c *captured) {
				eq(t, "path", c.r.URL.Path, "/v1/internal/ping")
			},
		},
		{
			name:    "escaped path keeps its escaping",
			fixture: fixturePlainPost,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/v1/a%2Fb/c" },
			check: func(t *testing.T, c *captured) {
				eq(t, "path", c.r.URL.Path, "/v1/a/b/c")
				eq(t, "escaped path", c.r.URL.EscapedPath(), "/v1/a%2Fb/c")
			},
		},
		{
			name:    "double slash path stays a path",
			fixture: fixturePlainPost,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "//evil.example/x" },
			check: func(t *testing.T, c *captured) {
				eq(t, "path", c.r.URL.Path, "//evil.example/x")
				eq(t, "host", c.r.URL.Host, "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com")
			},
		},
		{
			name:    "cookie header is kept when the Cookies array is empty",
			fixture: fixturePlainPost,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["cookie"] = "a=1; b=2" },
			check: func(t *testing.T, c *captured) {
				ck, err := c.r.Cookie("b")
				if err != nil {
					t.Fatalf("r.Cookie: %v", err)
				}
				eq(t, "b", ck.Value, "2")
			},
		},
		{
			name:    "Cookies array wins over a cookie header",
			fixture: fixtureGET,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["cookie"] = "stale=1" },
			check: func(t *testing.T, c *captured) {
				if _, err := c.r.Cookie("stale"); err == nil {
					t.Error("cookie header merged with the Cookies array")
				}
				eqSlice(t, "Cookie", c.r.Header.Values("Cookie"), []string{"saml_request=_req0001.c2lnbmF0dXJl; theme=dark; flex_hint=a%3Db"})
			},
		},
		{
			name:    "client X-Request-Id is dropped even without a requestId",
			fixture: fixtureGET,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.RequestID = "" },
			check: func(t *testing.T, c *captured) {
				if v := c.r.Header.Values("X-Request-Id"); len(v) != 0 {
					t.Errorf("X-Request-Id = %q, want none", v)
				}
			},
		},
		{
			name:    "unknown protocol falls back to HTTP/1.1",
			fixture: fixturePlainPost,
			mutate:  func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Protocol = "" },
			check: func(t *testing.T, c *captured) {
				if c.r.Proto != "HTTP/1.1" || c.r.ProtoMajor != 1 || c.r.ProtoMinor != 1 {
					t.Errorf("proto = %s (%d.%d)", c.r.Proto, c.r.ProtoMajor, c.r.ProtoMinor)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, tt.fixture)
			if tt.mutate != nil {
				tt.mutate(&ev)
			}
			c, resp := serveEvent(t, t.Context(), ev)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			tt.check(t, c)
		})
	}
}

// The handler's ctx must be the Lambda ctx: its deadline is what keeps
// retries inside the invocation, and its values carry the Lambda context.
func TestRequestContextIsLambdaContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	deadline := time.Now().Add(7 * time.Second).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(context.WithValue(t.Context(), key{}, "lambda"), deadline)
	defer cancel()

	c, _ := serveEvent(t, ctx, loadEvent(t, fixtureACSPost))
	got, ok := c.r.Context().Deadline()
	if !ok || !got.Equal(deadline) {
		t.Errorf("deadline = %v, %v; want %v", got, ok, deadline)
	}
	if v := c.r.Context().Value(key{}); v != "lambda" {
		t.Errorf("ctx value = %v, want the Lambda ctx's", v)
	}
	cancel()
	if c.r.Context().Err() == nil {
		t.Error("cancelling the Lambda ctx did not cancel the request ctx")
	}
}

// The fixtures must be shaped like real events: HTTP API lower-cases
// header names and never leaves cookies in the headers.
func TestFixturesLookReal(t *testing.T) {
	t.Parallel()
	for _, name := range []string{fixtureGET, fixtureACSPost, fixturePlainPost} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, name)
			eq(t, "version", ev.Version, "2.0")
			for k := range ev.Headers {
				if k != strings.ToLower(k) {
					t.Errorf("header %q is not lower case", k)
				}
				if k == "cookie" {
					t.Error("cookie header present; HTTP API moves it to cookies")
				}
			}
			if ev.RequestContext.RequestID == "" || ev.RequestContext.HTTP.Method == "" {
				t.Error("requestContext lacks requestId or http.method")
			}
		})
	}
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func eqSlice(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
