package samlflex

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, want string
		loopback  bool
	}{
		{"https://sso.example.com", "https://sso.example.com", false},
		{"https://sso.example.com/", "https://sso.example.com", false},
		{"https://sso.example.com//", "https://sso.example.com", false},
		{"https://example.com/sso/", "https://example.com/sso", false},
		{"https://example.com/a/b", "https://example.com/a/b", false},
		{"https://sso.example.com:8443", "https://sso.example.com:8443", false},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080", true},
		{"http://localhost:8080", "http://localhost:8080", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://sso.example.com", "http://sso.example.com", false},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			b, err := ParseBaseURL(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want || b.Loopback() != tc.loopback {
				t.Fatalf("got %q loopback=%v, want %q loopback=%v", b.String(), b.Loopback(), tc.want, tc.loopback)
			}
		})
	}
}

func TestParseBaseURLRefuses(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"", "sso.example.com", "/v1", "ftp://sso.example.com", "https://", "https://:443",
		"https://sso.example.com/?a=b", "https://sso.example.com/?", "https://sso.example.com/#x",
		"https://sso.example.com#", "https://user:pw@sso.example.com", "https:opaque", "https://%zz",
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			_, err := ParseBaseURL(raw)
			if CodeOf(err) != CodeInvalidConfig {
				t.Fatalf("accepted or wrong error: %v", err)
			}
			// One fixed sentence: the public message never echoes input.
			if p, want := PublicOf(err), PublicOf(mustFail(ParseBaseURL("x"))); p != want || !strings.Contains(p, "https://") {
				t.Fatalf("public message %q, want the fixed %q", p, want)
			}
		})
	}
}

func TestRequireSecureBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{"https://sso.example.com", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3", true},
		{"http://localhost", true},
		{"http://LOCALHOST:9", true},
		{"http://[::1]:8080", true},
		{"http://sso.example.com", false},
		{"http://10.0.0.1:8080", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://localhost", false},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			_, err := RequireSecureBaseURL(tc.raw)
			if (err == nil) != tc.ok {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
			if err != nil && CodeOf(err) != CodeInvalidConfig {
				t.Fatalf("code %q", CodeOf(err))
			}
		})
	}
}

func mustFail(_ BaseURL, err error) error { return err }

// TestRoutesAgree checks that a ServeMux built from the route patterns
// routes the URLs that URLsFor prints, with a path prefix too: the one
// builder is what keeps them equal.
func TestRoutesAgree(t *testing.T) {
	t.Parallel()
	u, err := URLsFor("https://sso.example.com/", testSID)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hit := ""
	for name, p := range map[string]string{
		"acs":      RoutePattern(ACSPath),
		"login":    RoutePattern(LoginPath),
		"metadata": RoutePattern(MetadataPath),
		"jwks":     PathJWKS,
		"healthz":  PathHealthz,
	} {
		mux.HandleFunc(p, func(_ http.ResponseWriter, r *http.Request) {
			hit = name
			if name != "jwks" && name != "healthz" && r.PathValue("sid") != testSID {
				t.Errorf("%s: sid %q", name, r.PathValue("sid"))
			}
		})
	}
	for want, target := range map[string]string{
		"acs": u.ACS, "login": u.Login, "metadata": u.Metadata, "jwks": "https://sso.example.com" + PathJWKS,
		"healthz": "https://sso.example.com" + PathHealthz,
	} {
		hit = ""
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, target, nil))
		if hit != want {
			t.Errorf("%s routed to %q, want %q", target, hit, want)
		}
	}
	if u.EntityID != u.Metadata {
		t.Errorf("entity ID %q is not the metadata URL %q", u.EntityID, u.Metadata)
	}
	pre, err := URLsFor("https://example.com/sso/", testSID)
	if err != nil || pre.ACS != "https://example.com/sso"+ACSPath(testSID) {
		t.Fatalf("prefix: %+v %v", pre, err)
	}
}
