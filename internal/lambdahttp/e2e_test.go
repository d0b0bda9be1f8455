package lambdahttp

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// acsLikeHandler does what the real ACS handler does at the HTTP level:
// parse the form, read the request cookie, answer 303 with two cookies.
func acsLikeHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n")) // exercises the base64 path
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("SAMLResponse") == "" {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if _, err := r.Cookie("saml_request"); err != nil {
		http.Error(w, "no request cookie", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "saml_request", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	http.SetCookie(w, &http.Cookie{Name: "flex_session", Value: "tok", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
	http.Redirect(w, r, "https://flex.example.com/agent-desktop", http.StatusSeeOther)
}

// TestEndToEnd feeds fixture bytes through aws-lambda-go's own handler
// wrapper, the code lambda.Start runs, so it checks both that Handle has a
// signature lambda.Start accepts and the exact JSON API Gateway receives.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fixture     string
		wantStatus  int
		wantHeaders map[string]string
		wantCookies []string
		wantBody    string
		wantBase64  bool
	}{
		{
			name:       "ACS form post",
			fixture:    fixtureACSPost,
			wantStatus: http.StatusSeeOther,
			wantHeaders: map[string]string{
				"Location":      "https://flex.example.com/agent-desktop",
				"Cache-Control": "no-store",
				"X-Request-Id":  "Kx1bFgHioAMEV-w=",
			},
			wantCookies: []string{
				"saml_request=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None",
				"flex_session=tok; Path=/; HttpOnly; Secure; SameSite=Lax",
			},
		},
		{
			name:        "binary GET",
			fixture:     fixtureGET,
			wantStatus:  http.StatusOK,
			wantHeaders: map[string]string{"Content-Type": "image/png"},
			wantBody:    base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n")),
			wantBase64:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := samlflextest.NewLogger(slog.LevelDebug)
			adapter := New(http.HandlerFunc(acsLikeHandler), logger)
			out, err := lambda.NewHandler(adapter.Handle).Invoke(t.Context(), readFixture(t, tt.fixture))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}

			// The field names are API Gateway's contract; decode loosely
			// to check them, not the Go struct's view of them.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(out, &raw); err != nil {
				t.Fatalf("response is not a JSON object: %v\n%s", err, out)
			}
			for _, k := range []string{"statusCode", "headers", "body", "cookies"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("response JSON lacks %q: %s", k, out)
				}
			}
			var got struct {
				StatusCode      int               `json:"statusCode"`
				Headers         map[string]string `json:"headers"`
				Cookies         []string          `json:"cookies"`
				Body            string            `json:"body"`
				IsBase64Encoded bool              `json:"isBase64Encoded"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.StatusCode != tt.wantStatus {
				t.Errorf("statusCode = %d, want %d: %s", got.StatusCode, tt.wantStatus, out)
			}
			for k, v := range tt.wantHeaders {
				if got.Headers[k] != v {
					t.Errorf("headers[%q] = %q, want %q", k, got.Headers[k], v)
				}
			}
			if !slices.Equal(got.Cookies, tt.wantCookies) {
				t.Errorf("cookies = %q, want %q", got.Cookies, tt.wantCookies)
			}
			if got.Body != tt.wantBody || got.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("body = %q (base64 %v), want %q (base64 %v)", got.Body, got.IsBase64Encoded, tt.wantBody, tt.wantBase64)
			}
			if s := logs.String(); s != "" {
				t.Errorf("adapter logged on success: %s", s)
			}
		})
	}
}
