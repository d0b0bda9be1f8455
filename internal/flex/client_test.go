package flex

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"defaults", Options{}, false},
		{"https base URL with path prefix", Options{BaseURL: "https://proxy.example.test/flex/"}, false},
		{"http on 127.0.0.1", Options{BaseURL: "http://127.0.0.1:8080"}, false},
		{"http on ::1", Options{BaseURL: "http://[::1]:8080"}, false},
		{"http on localhost", Options{BaseURL: "http://localhost:8080"}, false},
		{"http elsewhere would send the secret in clear", Options{BaseURL: "http://flex.example.test"}, true},
		{"user info", Options{BaseURL: "https://u:p@flex.example.test"}, true},
		{"query", Options{BaseURL: "https://flex.example.test/?a=b"}, true},
		{"no host", Options{BaseURL: "https:///v4"}, true},
		{"ftp", Options{BaseURL: "ftp://flex.example.test"}, true},
		{"budget below one attempt", Options{Timeout: 5 * time.Second, MaxElapsed: 4 * time.Second}, true},
		{"negative timeout", Options{Timeout: -time.Second}, true},
		{"negative Retry-After cap", Options{MaxRetryAfter: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.opts)
			if tt.wantErr {
				wantCode(t, err, samlflex.CodeInvalidConfig)
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.opts.BaseURL == "" && c.base.String() != DefaultBaseURL {
				t.Errorf("base = %s, want %s", c.base, DefaultBaseURL)
			}
			if strings.HasSuffix(c.base.Path, "/") {
				t.Errorf("base path %q keeps a trailing slash", c.base.Path)
			}
		})
	}
}

func TestNewDoesNotMutateCallersHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if _, err := New(Options{HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

func TestCredsRedacted(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-value"
	c := Creds{Username: "SK123", Secret: secret}
	logs := &samlflextest.LogBuffer{}
	newJSONLogger(logs).Info("creds", "creds", c)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%q", c), fmt.Sprint(&c), logs.String(),
	} {
		if strings.Contains(s, secret) {
			t.Errorf("secret in %q", s)
		}
		if !strings.Contains(s, "SK123") {
			t.Errorf("key SID missing from %q", s)
		}
	}
}

// newRedirectServer answers every request with a redirect to target.
func newRedirectServer(t *testing.T, target string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}
