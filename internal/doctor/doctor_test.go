package doctor

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
)

// rewrite runs the real handler, then lets edit change its answer: a
// proxy or CDN that breaks things, or a broken samlflex.
func rewrite(edit func(r *http.Request, rec *httptest.ResponseRecorder)) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			edit(r, rec)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

// setCookie replaces the login cookie's Set-Cookie line.
func setCookie(line string) func(http.Handler) http.Handler {
	return rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
		if strings.HasSuffix(r.URL.Path, "/login") {
			// The real cookie's value, whatever its name.
			first, _, _ := strings.Cut(rec.Header().Get("Set-Cookie"), ";")
			_, value, _ := strings.Cut(first, "=")
			// One Set-Cookie header per line of line.
			rec.Header().Del("Set-Cookie")
			for _, l := range strings.Split(strings.ReplaceAll(line, "VALUE", value), "\n") {
				rec.Header().Add("Set-Cookie", l)
			}
		}
	})
}

// location edits the query of the login link's redirect.
func location(edit func(url.Values)) func(http.Handler) http.Handler {
	return rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
		if !strings.HasSuffix(r.URL.Path, "/login") {
			return
		}
		u, err := url.Parse(rec.Header().Get("Location"))
		if err != nil {
			panic(err)
		}
		q := u.Query()
		edit(q)
		u.RawQuery = q.Encode()
		rec.Header().Set("Location", u.String())
	})
}

func keySet(t *testing.T, notBefore time.Time, validity time.Duration) *keys.Set {
	t.Helper()
	p, err := keys.Generate(keys.RSA2048, notBefore, validity, "samlflex SP (test)", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &keys.Set{Current: p}
}

// TestDoctorDeployments runs doctor against the real handler, healthy and
// broken on purpose, over https (a test CA) or http.
func TestDoctorDeployments(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	now := time.Now()
	day := 24 * time.Hour
	good := ca.leaf(t, []string{"sso.test"}, now.Add(-day), now.Add(90*day))
	type check struct {
		name, seen string
		status     Status
	}
	tests := []struct {
		name       string
		serverBase string // default https://sso.test
		doctorBase string // default https://sso.test
		sid        string
		idp        string
		cert       *tls.Certificate // default good; nil with plainHTTP
		plainHTTP  bool
		untrusted  bool
		keySet     func(t *testing.T) *keys.Set
		serverNow  func() time.Time
		wrap       func(http.Handler) http.Handler
		signAuthn  bool
		want       []check
		wantFailed bool
	}{
		{name: "healthy", idp: testIdPSSO, want: []check{
			{"tls", "certificate for sso.test (names sso.test)", StatusOK},
			{"healthz", "HTTP 200", StatusOK},
			{"clock.http_date", "agrees", StatusOK},
			{"metadata", "HTTP 200", StatusOK},
			{"metadata.entity_id", "https://sso.test/v1/Accounts/" + testSID + "/saml2/metadata", StatusOK},
			{"metadata.acs_url", "https://sso.test/v1/Accounts/" + testSID + "/saml2", StatusOK},
			{"metadata.valid_until", "validUntil", StatusOK},
			{"metadata.certificate[0]", "samlflex SP (local)", StatusOK},
			{"metadata.certificate[1]", "samlflex SP (local)", StatusOK},
			{"login", "HTTP 302 to " + testIdPSSO, StatusOK},
			{"login.idp", testIdPSSO, StatusOK},
			{"login.authn_request", "AuthnRequest _samlflex_", StatusOK},
			{"login.signature", "unsigned", StatusOK},
			{"login.acs_url", "https://sso.test/v1/Accounts/" + testSID + "/saml2", StatusOK},
			{"login.issuer", "https://sso.test/v1/Accounts/" + testSID + "/saml2/metadata", StatusOK},
			{"clock.saml", "agrees", StatusOK},
			{"jwks", "4 keys", StatusOK},
			{"jwks.current", "the current kid", StatusOK},
			{"rotation", "no --secret-id or --stack", StatusSkip},
		}},
		// login.cookie of the healthy case is ok or warn, by the cookie's
		// name (the __Host- cases below).
		{name: "TLS certificate near expiry", cert: ptr(ca.leaf(t, []string{"sso.test"}, now.Add(-day), now.Add(10*day+time.Hour))),
			want: []check{{"tls", "(in 10 days)", StatusWarn}}},
		{name: "TLS certificate for another host", cert: ptr(ca.leaf(t, []string{"other.test"}, now.Add(-day), now.Add(90*day))),
			wantFailed: true, want: []check{{"tls", "does not cover sso.test: names other.test", StatusFail}, {"healthz", "no answer", StatusFail},
				{"metadata", "did not answer", StatusSkip}}},
		{name: "TLS certificate expired", cert: ptr(ca.leaf(t, []string{"sso.test"}, now.Add(-90*day), now.Add(-day))),
			wantFailed: true, want: []check{{"tls", "expired", StatusFail}}},
		{name: "TLS certificate from an untrusted CA", untrusted: true,
			wantFailed: true, want: []check{{"tls", "not signed by a trusted CA", StatusFail}}},
		{name: "plain http on a public host", plainHTTP: true, serverBase: "http://sso.test", doctorBase: "http://sso.test",
			wantFailed: true, want: []check{{"tls", "plain http to sso.test", StatusFail}, {"healthz", "HTTP 200", StatusOK}, {"metadata.entity_id", "http://sso.test/", StatusOK}}},
		{name: "plain http on loopback", plainHTTP: true, serverBase: "http://127.0.0.1:8080", doctorBase: "http://127.0.0.1:8080",
			want: []check{{"tls", "loopback", StatusOK}}},
		{name: "server base URL differs", serverBase: "https://old.test", wantFailed: true, want: []check{
			{"metadata.entity_id", "https://old.test/v1/Accounts/", StatusFail},
			{"metadata.acs_url", "https://old.test/v1/Accounts/", StatusFail},
			{"login.acs_url", "https://old.test/v1/Accounts/", StatusFail},
			{"login.issuer", "https://old.test/v1/Accounts/", StatusFail},
		}},
		{name: "base URL with a path prefix the server lacks", doctorBase: "https://sso.test/sso", wantFailed: true,
			want: []check{{"healthz", "HTTP 404", StatusFail}, {"metadata", "HTTP 404", StatusFail}}},
		{name: "health failing", wrap: rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == "/healthz" {
				rec.Code = http.StatusServiceUnavailable
				rec.Body.Reset()
			}
		}), wantFailed: true, want: []check{{"healthz", "HTTP 503", StatusFail}}},
		{name: "server clock 5 minutes behind", serverNow: func() time.Time { return time.Now().Add(-5 * time.Minute) },
			wantFailed: true, want: []check{{"clock.saml", "5m0s behind", StatusFail}}},
		{name: "server clock 1 minute ahead", serverNow: func() time.Time { return time.Now().Add(time.Minute) },
			want: []check{{"clock.saml", "1m0s ahead of", StatusWarn}}},
		{name: "HTTP Date 10 minutes ahead", wrap: rewrite(func(_ *http.Request, rec *httptest.ResponseRecorder) {
			rec.Header().Set("Date", time.Now().Add(10*time.Minute).UTC().Format(http.TimeFormat))
		}), wantFailed: true, want: []check{{"clock.http_date", "ahead of", StatusFail}, {"clock.saml", "agrees", StatusOK}}},
		{name: "SP certificate expired", keySet: func(t *testing.T) *keys.Set { return keySet(t, now.Add(-3*365*day), 365*day) },
			wantFailed: true, want: []check{{"metadata.certificate[0]", "(expired 730 days ago)", StatusFail}, {"metadata.valid_until", "730 days ago", StatusFail}}},
		{name: "SP certificate near expiry", keySet: func(t *testing.T) *keys.Set { return keySet(t, now.Add(-300*day), 310*day) },
			want: []check{{"metadata.certificate[0]", "(9 days left)", StatusWarn}, {"metadata.valid_until", "in 9 days", StatusOK}}},
		{name: "login cookie without SameSite and HttpOnly", wrap: setCookie("samlflex_login=VALUE; Path=/v1/Accounts/" + testSID + "/saml2; Secure"),
			wantFailed: true, want: []check{{"login.cookie", "samlflex_login", StatusFail}}},
		{name: "login cookie SameSite=Lax", wrap: setCookie("samlflex_login=VALUE; Path=/; HttpOnly; Secure; SameSite=Lax"),
			wantFailed: true, want: []check{{"login.cookie", "Secure; HttpOnly; SameSite=Lax", StatusFail}}},
		{name: "login cookie without Secure", wrap: setCookie("samlflex_login=VALUE; Path=/; HttpOnly; SameSite=None"),
			wantFailed: true, want: []check{{"login.cookie", "HttpOnly; SameSite=None", StatusFail}}},
		{name: "login cookie dropped", wrap: rewrite(func(_ *http.Request, rec *httptest.ResponseRecorder) { rec.Header().Del("Set-Cookie") }),
			wantFailed: true, want: []check{{"login.cookie", "no login cookie", StatusFail}, {"jwks.current", "metadata certificates are published", StatusOK}}},
		{name: "login cookie without __Host- prefix", wrap: setCookie("samlflex_login=VALUE; Path=/v1/Accounts/" + testSID + "/saml2; Max-Age=600; HttpOnly; Secure; SameSite=None"), want: []check{{"login.cookie", "samlflex_login; Path=/v1/Accounts/", StatusWarn}}},
		{name: "__Host- login cookie", wrap: setCookie("__Host-samlflex_login=VALUE; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=None"),
			want: []check{{"login.cookie", "__Host-samlflex_login; Path=/; Secure; HttpOnly; SameSite=None", StatusOK}, {"jwks.current", "the current kid", StatusOK}}},
		{name: "__Host- login cookie after clearing the legacy one", wrap: setCookie("samlflex_login=; Path=/v1/Accounts/" + testSID + "/saml2; Max-Age=0; HttpOnly; Secure; SameSite=None" +
			"\n__Host-samlflex_login=VALUE; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=None"),
			want: []check{{"login.cookie", "__Host-samlflex_login; Path=/; Secure", StatusOK}}},
		{name: "__Host- login cookie with an account path", wrap: setCookie("__Host-samlflex_login=VALUE; Path=/v1; HttpOnly; Secure; SameSite=None"),
			wantFailed: true, want: []check{{"login.cookie", "__Host-samlflex_login; Path=/v1", StatusFail}}},
		{name: "signed AuthnRequests", signAuthn: true, want: []check{
			{"login.signature", "signed with http://www.w3.org/2001/04/xmldsig-more#rsa-sha256, verifies with metadata certificate", StatusOK},
			{"login.authn_request", "AuthnRequest _samlflex_", StatusOK}}},
		{name: "AuthnRequest signed with a key metadata does not publish", signAuthn: true, wrap: location(func(q url.Values) {
			sig, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
			if err != nil || len(sig) == 0 {
				panic("no signature to tamper with")
			}
			sig[len(sig)/2] ^= 1
			q.Set("Signature", base64.StdEncoding.EncodeToString(sig))
		}), wantFailed: true, want: []check{{"login.signature", "no metadata certificate verifies", StatusFail}}},
		{name: "metadata promises signed AuthnRequests that are not", signAuthn: true, wrap: location(func(q url.Values) {
			q.Del("SigAlg")
			q.Del("Signature")
		}), wantFailed: true, want: []check{{"login.signature", "unsigned, but the metadata says", StatusFail}, {"login.authn_request", "unsigned", StatusOK}}},
		{name: "login link to another IdP", idp: "https://other.my.salesforce.com/idp/endpoint/HttpRedirect",
			wantFailed: true, want: []check{{"login.idp", testIdPSSO, StatusFail}}},
		{name: "unknown account", sid: "ACffffffffffffffffffffffffffffffff", wantFailed: true, want: []check{
			{"metadata", "HTTP 404 (unknown_account)", StatusFail}, {"login", "HTTP 404 (unknown_account)", StatusFail},
			{"jwks", "4 keys", StatusOK}, {"jwks.current", "no login cookie kid", StatusSkip}}},
		{name: "JWKS without the current key", wrap: rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == "/.well-known/jwks.json" {
				rec.Body.Reset()
				rec.Body.WriteString(`{"keys":[{"kty":"EC","crv":"P-256","kid":"other","alg":"ES256","use":"sig",` +
					`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)
			}
		}), wantFailed: true, want: []check{{"jwks", "1 keys, kids other", StatusOK}, {"jwks.current", "missing from the JWKS: the current kid", StatusFail}}},
		{name: "JWKS empty", wrap: rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path == "/.well-known/jwks.json" {
				rec.Body.Reset()
				rec.Body.WriteString(`{"keys":[]}`)
			}
		}), wantFailed: true, want: []check{{"jwks", "an empty key set", StatusFail}}},
		{name: "not samlflex behind the URL", wrap: rewrite(func(r *http.Request, rec *httptest.ResponseRecorder) {
			if r.URL.Path != "/healthz" {
				rec.Header().Del("X-Samlflex-Error")
				rec.Header().Del("Location")
				rec.Code = http.StatusOK
				rec.Body.Reset()
				rec.Body.WriteString("<html>welcome to nginx</html>")
			}
		}), wantFailed: true, want: []check{{"metadata", "not SAML metadata", StatusFail}, {"login", "HTTP 200", StatusFail}, {"jwks", "not a JWKS", StatusFail}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := deployOpts{baseURL: or(tt.serverBase, "https://sso.test"), pool: ca.pool, wrap: tt.wrap, now: tt.serverNow, signAuthn: tt.signAuthn}
			if !tt.plainHTTP {
				o.tlsCert = &good
				if tt.cert != nil {
					o.tlsCert = tt.cert
				}
			}
			if tt.untrusted {
				o.pool = nil
			}
			if tt.keySet != nil {
				o.keySet = tt.keySet(t)
			}
			d := deploy(t, o)
			rep := d.run(t, Config{BaseURL: or(tt.doctorBase, "https://sso.test"), AccountSID: tt.sid, IdPSSOURL: tt.idp})
			for _, c := range tt.want {
				want(t, rep, c.name, c.status, c.seen)
			}
			if rep.Failed() != tt.wantFailed {
				t.Errorf("Failed() = %v, want %v\n%s", rep.Failed(), tt.wantFailed, dump(rep))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestDoctorWithoutAccount(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOpts{baseURL: "http://127.0.0.1:8080"})
	rep, err := Run(t.Context(), Config{BaseURL: "http://127.0.0.1:8080", Transport: d.transport})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"metadata", "login", "jwks.current", "rotation"} {
		want(t, rep, c, StatusSkip, "")
	}
	want(t, rep, "jwks", StatusOK, "4 keys")
	if rep.Failed() {
		t.Errorf("failed:\n%s", dump(rep))
	}
}

func TestDoctorUnreachable(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: the closed listener's.
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	rep, err := Run(t.Context(), Config{BaseURL: base, AccountSID: testSID})
	if err != nil {
		t.Fatal(err)
	}
	want(t, rep, "tls", StatusOK, "loopback")
	want(t, rep, "healthz", StatusFail, "no answer")
	for _, c := range []string{"clock.http_date", "metadata", "login", "jwks"} {
		want(t, rep, c, StatusSkip, "the server did not answer")
	}
	if !rep.Failed() {
		t.Error("an unreachable server passed")
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no base URL", Config{}, "--base-url is required"},
		{"relative base URL", Config{BaseURL: "sso.example.com"}, "absolute http(s) URL"},
		{"ftp base URL", Config{BaseURL: "ftp://sso.example.com"}, "absolute http(s) URL"},
		{"query in base URL", Config{BaseURL: "https://sso.example.com/?a=b"}, "without query"},
		{"bad account SID", Config{BaseURL: "https://sso.example.com", AccountSID: "AC123"}, "--account-sid"},
		{"relative IdP URL", Config{BaseURL: "https://sso.example.com", IdPSSOURL: "/idp"}, "--idp-sso-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(t.Context(), tt.cfg)
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrUsage containing %q", err, tt.want)
			}
		})
	}
}
