package lambdahttp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

func TestResponseTranslation(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	tests := []struct {
		name        string
		method      string // default GET
		handler     http.HandlerFunc
		wantStatus  int
		wantHeaders map[string]string // exact, when non-nil
		wantCookies []string
		wantBody    []byte
		wantBase64  bool
	}{
		{
			name:        "nothing written is an empty 200",
			handler:     func(http.ResponseWriter, *http.Request) {},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{},
		},
		{
			name: "two Set-Cookie headers become two cookies",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "saml_request", Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
				w.Header().Set("Location", "https://flex.example.com/")
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusSeeOther)
			},
			wantStatus:  http.StatusSeeOther,
			wantHeaders: map[string]string{"Location": "https://flex.example.com/", "Cache-Control": "no-store"},
			wantCookies: []string{
				"saml_request=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None",
				"session=abc; Path=/; HttpOnly; Secure; SameSite=Lax",
			},
		},
		{
			name: "cookie with a comma in Expires is not split or joined",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT")
				w.Header().Add("Set-Cookie", "b=2")
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{},
			wantCookies: []string{"a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"},
		},
		{
			name: "multi-value headers are joined with comma space",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Vary", "Origin")
				w.Header().Add("Vary", "Accept-Encoding")
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = w.Write([]byte("ok"))
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Vary": "Origin, Accept-Encoding", "Content-Type": "text/plain; charset=utf-8"},
			wantBody:    []byte("ok"),
		},
		{
			name: "HTML is a string",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte("<p>héllo</p>"))
			},
			wantStatus: http.StatusOK,
			wantBody:   []byte("<p>héllo</p>"),
		},
		{
			name: "JSON is a string",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"ok":true}`))
			},
			wantStatus: http.StatusOK,
			wantBody:   []byte(`{"ok":true}`),
		},
		{
			name: "SAML metadata (+xml) is a string",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/samlmetadata+xml")
				_, _ = w.Write([]byte(`<md:EntityDescriptor/>`))
			},
			wantStatus: http.StatusOK,
			wantBody:   []byte(`<md:EntityDescriptor/>`),
		},
		{
			name: "JavaScript is a string",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/javascript")
				_, _ = w.Write([]byte(`alert(1)`))
			},
			wantStatus: http.StatusOK,
			wantBody:   []byte(`alert(1)`),
		},
		{
			name: "binary is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				_, _ = w.Write(png)
			},
			wantStatus: http.StatusOK,
			wantBody:   png,
			wantBase64: true,
		},
		{
			name: "text that is not UTF-8 is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
				_, _ = w.Write([]byte("caf\xe9"))
			},
			wantStatus: http.StatusOK,
			wantBody:   []byte("caf\xe9"),
			wantBase64: true,
		},
		{
			name: "gzip-encoded text is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write([]byte("\x1f\x8b\x08\x00"))
			},
			wantStatus: http.StatusOK,
			wantBody:   []byte("\x1f\x8b\x08\x00"),
			wantBase64: true,
		},
		{
			name: "missing Content-Type is sniffed like net/http",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("<!DOCTYPE html><html></html>"))
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			wantBody:    []byte("<!DOCTYPE html><html></html>"),
		},
		{
			name: "sniffed binary is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte{0, 1, 2, 3})
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Content-Type": "application/octet-stream"},
			wantBody:    []byte{0, 1, 2, 3},
			wantBase64:  true,
		},
		{
			name: "nil Content-Type suppresses sniffing",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil
				_, _ = w.Write([]byte{0, 1})
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{},
			wantBody:    []byte{0, 1},
			wantBase64:  true,
		},
		{
			name: "first WriteHeader wins and later header changes are ignored",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusAccepted)
				w.WriteHeader(http.StatusTeapot)
				w.Header().Set("X-Late", "1")
				_, _ = w.Write([]byte("a"))
			},
			wantStatus:  http.StatusAccepted,
			wantHeaders: map[string]string{"Content-Type": "text/plain"},
			wantBody:    []byte("a"),
		},
		{
			name: "informational status is not the final status",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</a.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusCreated)
			},
			wantStatus: http.StatusCreated,
		},
		{
			name:   "HEAD drops the body",
			method: http.MethodHead,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write([]byte("body"))
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Content-Type": "text/plain"},
		},
		{
			name: "204 refuses a body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
					panic("Write after 204 did not return ErrBodyNotAllowed")
				}
			},
			wantStatus:  http.StatusNoContent,
			wantHeaders: map[string]string{},
		},
		{
			name: "CR and LF in header values become spaces",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header()["X-Note"] = []string{"a\r\nSet-Cookie: evil=1"}
				w.Header()["Bad Name"] = []string{"x"}
			},
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"X-Note": "a  Set-Cookie: evil=1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, fixtureGET)
			if tt.method != "" {
				ev.RequestContext.HTTP.Method = tt.method
			}
			logger, logs := samlflextest.NewLogger(slog.LevelDebug)
			resp, err := New(tt.handler, logger).Handle(t.Context(), ev)
			if err != nil {
				t.Fatalf("Handle returned a Lambda error: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantHeaders != nil && !maps.Equal(resp.Headers, tt.wantHeaders) {
				t.Errorf("headers = %q, want %q", resp.Headers, tt.wantHeaders)
			}
			if _, ok := resp.Headers["Set-Cookie"]; ok {
				t.Error("Set-Cookie left in Headers")
			}
			if !slices.Equal(resp.Cookies, tt.wantCookies) {
				t.Errorf("cookies = %q, want %q", resp.Cookies, tt.wantCookies)
			}
			if resp.MultiValueHeaders != nil {
				t.Errorf("MultiValueHeaders = %v; HTTP API v2 ignores them", resp.MultiValueHeaders)
			}
			if resp.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("IsBase64Encoded = %v, want %v", resp.IsBase64Encoded, tt.wantBase64)
			}
			if got := decodedBody(t, resp); !bytes.Equal(got, tt.wantBody) {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			if s := logs.String(); s != "" {
				t.Errorf("adapter logged on success: %s", s)
			}
		})
	}
}

// decodedBody is the body API Gateway will send to the client.
func decodedBody(t *testing.T, resp events.APIGatewayV2HTTPResponse) []byte {
	t.Helper()
	if !resp.IsBase64Encoded {
		if resp.Body == "" {
			return nil
		}
		return []byte(resp.Body)
	}
	b, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	return b
}
