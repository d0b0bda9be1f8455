package lambdahttp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// secret stands for input that must never reach a response or a log.
const secret = "SAMLResponse=c2VjcmV0LWFzc2VydGlvbg"

func TestHandleRefusesBadRequests(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name       string
		opts       Options
		mutate     func(*events.APIGatewayV2HTTPRequest)
		wantStatus int
	}{
		{
			name:       "plain body over the default limit",
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = secret + strings.Repeat("a", int(DefaultMaxBody)) },
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name: "plain body at the default limit",
			mutate: func(ev *events.APIGatewayV2HTTPRequest) {
				ev.Body = secret + strings.Repeat("a", int(DefaultMaxBody)-len(secret))
			},
			wantStatus: http.StatusOK,
		},
		{
			name:       "base64 body over a configured limit",
			opts:       Options{MaxBody: int64(len(secret))},
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded, ev.Body = true, b64([]byte(secret+"x")) },
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name:       "base64 body at a configured limit",
			opts:       Options{MaxBody: int64(len(secret))},
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded, ev.Body = true, b64([]byte(secret)) },
			wantStatus: http.StatusOK,
		},
		{
			name:       "negative limit means the default, not unlimited",
			opts:       Options{MaxBody: -1},
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = strings.Repeat("a", int(DefaultMaxBody)+1) },
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name:       "bad base64 body",
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded, ev.Body = true, secret+"!!" },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "empty method",
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "" },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "method that is not a token",
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "GET /x" },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "host that would change the URL",
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["host"] = "evil.example/x?" },
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "no host at all",
			mutate: func(ev *events.APIGatewayV2HTTPRequest) {
				delete(ev.Headers, "host")
				ev.RequestContext.DomainName = ""
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "relative path",
			mutate:     func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "v1/x" },
			wantStatus: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, fixturePlainPost)
			ev.Cookies = []string{"session=" + secret}
			tt.mutate(&ev)

			called := false
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				_, _ = io.Copy(io.Discard, r.Body)
			})
			logger, logs := samlflextest.NewLogger(slog.LevelDebug)
			resp, err := NewWithOptions(h, logger, tt.opts).Handle(t.Context(), ev)
			if err != nil {
				t.Fatalf("Handle returned a Lambda error: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK {
				if !called {
					t.Error("handler not called")
				}
				if s := logs.String(); s != "" {
					t.Errorf("adapter logged on success: %s", s)
				}
				return
			}
			if called {
				t.Error("handler called for a refused request")
			}
			checkGenericResponse(t, resp, tt.wantStatus)
			recs := logs.Records(t)
			if len(recs) != 1 || recs[0]["level"] != "WARN" || recs[0]["request_id"] != "Kx1cJkLmoAMEV-A=" {
				t.Errorf("want one WARN record with request_id, got %v", recs)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("log contains the body or a cookie: %s", logs.String())
			}
		})
	}
}

func TestHandleRecoversPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{
			name:    "panic with a string",
			handler: func(http.ResponseWriter, *http.Request) { panic("boom: " + secret) },
		},
		{
			name:    "panic with an error",
			handler: func(http.ResponseWriter, *http.Request) { panic(fmt.Errorf("wrapped: %w", errors.New(secret))) },
		},
		{
			name: "panic after a partial response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "half"})
				w.WriteHeader(http.StatusSeeOther)
				panic(secret)
			},
		},
		{
			name:    "invalid status code",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(42) },
		},
		{
			name:    "ErrAbortHandler",
			handler: func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, fixtureGET)
			logger, logs := samlflextest.NewLogger(slog.LevelDebug)
			resp, err := New(tt.handler, logger).Handle(t.Context(), ev)
			if err != nil {
				t.Fatalf("Handle returned a Lambda error: %v", err)
			}
			checkGenericResponse(t, resp, http.StatusInternalServerError)
			if len(resp.Cookies) != 0 {
				t.Errorf("cookies from the partial response leaked: %q", resp.Cookies)
			}
			recs := logs.Records(t)
			if len(recs) != 1 {
				t.Fatalf("want one log record, got %v", recs)
			}
			rec := recs[0]
			if rec["level"] != "ERROR" || rec["request_id"] != "Kx1aBcDeoAMEV-Q=" {
				t.Errorf("want ERROR with request_id, got %v", rec)
			}
			if s, _ := rec["stack"].(string); !strings.Contains(s, "adapter_test.go") {
				t.Error("log record lacks the panicking stack")
			}
			for _, c := range ev.Cookies {
				if strings.Contains(logs.String(), c) {
					t.Errorf("log contains cookie %q", c)
				}
			}
		})
	}
}

// checkGenericResponse asserts the adapter's own response: the bare status
// text, never the panic, body, or error detail.
func checkGenericResponse(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d", resp.StatusCode, status)
	}
	if want := http.StatusText(status) + "\n"; resp.Body != want {
		t.Errorf("body = %q, want %q", resp.Body, want)
	}
	if strings.Contains(resp.Body, secret) {
		t.Error("response echoes input")
	}
	if resp.IsBase64Encoded {
		t.Error("generic response is base64")
	}
	if ct := resp.Headers["Content-Type"]; ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// A nil logger must not make Handle panic on the paths that log.
func TestNilLogger(t *testing.T) {
	t.Parallel()
	a := New(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }), nil)
	resp, err := a.Handle(t.Context(), loadEvent(t, fixtureGET))
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("got %d, %v; want 500, nil", resp.StatusCode, err)
	}
}

// TestOversizedBase64RefusedBeforeDecoding: with the ACS event as API
// Gateway sends it (testdata, base64 form body), a body whose encoded
// length exceeds the cap's encoding is refused with 413 before it is
// decoded. The proof it was not decoded: a too long body that is not
// valid base64 gets 413, not the decoder's 400. At the exact bound the
// body decodes and reaches the handler.
func TestOversizedBase64RefusedBeforeDecoding(t *testing.T) {
	t.Parallel()
	const maxBody = 3000 // encodes to exactly 4000 characters
	valid := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("S", n))) }
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantLog    string
	}{
		{name: "valid, decodes to the cap", body: valid(maxBody), wantStatus: http.StatusOK},
		{name: "valid, one byte over the cap", body: valid(maxBody + 1), wantStatus: http.StatusRequestEntityTooLarge, wantLog: "refused before decoding"},
		{name: "invalid base64 over the bound", body: strings.Repeat("!", 4001), wantStatus: http.StatusRequestEntityTooLarge, wantLog: "refused before decoding"},
		{name: "invalid base64 within the bound", body: strings.Repeat("!", 4000), wantStatus: http.StatusBadRequest, wantLog: "not valid base64"},
		{name: "many times the cap", body: valid(10 * maxBody), wantStatus: http.StatusRequestEntityTooLarge, wantLog: "refused before decoding"},
		// Padding-free bodies cannot exceed the bound and decode to the cap;
		// line breaks (never sent by API Gateway) count against the bound.
		{name: "line breaks push the encoding over the bound", body: valid(maxBody-3) + "\n\n\n\n\n", wantStatus: http.StatusRequestEntityTooLarge, wantLog: "refused before decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, fixtureACSPost)
			if !ev.IsBase64Encoded {
				t.Fatal("fixture is not a base64 event")
			}
			ev.Body = tt.body
			var got int
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = len(b)
			})
			logger, logs := samlflextest.NewLogger(slog.LevelDebug)
			resp, err := NewWithOptions(h, logger, Options{MaxBody: maxBody}).Handle(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (log %s)", resp.StatusCode, tt.wantStatus, logs.String())
			}
			if tt.wantStatus == http.StatusOK && got != maxBody {
				t.Errorf("handler read %d bytes, want %d", got, maxBody)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %s lacks %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestMaxEncoded(t *testing.T) {
	t.Parallel()
	for n := range int64(50) {
		want := int64(len(base64.StdEncoding.EncodeToString(make([]byte, n))))
		if got := maxEncoded(n); got != want {
			t.Errorf("maxEncoded(%d) = %d, want %d", n, got, want)
		}
	}
}
