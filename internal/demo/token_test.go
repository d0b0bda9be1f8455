package demo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
)

const testIssuer = "http://127.0.0.1:8080"

// jwksServer publishes the JWKS of whatever set it currently holds and
// counts fetches.
type jwksServer struct {
	srv     *httptest.Server
	set     atomic.Pointer[keys.Set]
	fetches atomic.Int32
	fail    atomic.Bool
}

func newJWKSServer(t *testing.T, set *keys.Set) *jwksServer {
	t.Helper()
	j := &jwksServer{}
	j.set.Store(set)
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		if j.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		b, err := session.JWKS(j.set.Load())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func fileKeySet(t *testing.T) *keys.Set {
	t.Helper()
	src, err := filekeys.Open(t.TempDir(), fixedNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := src.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func issue(t *testing.T, set *keys.Set, mutate func(*session.Input)) string {
	t.Helper()
	in := session.Input{
		Issuer: testIssuer, Subject: "alice", AccountSID: testSID,
		Name: "Alice Agent", Email: "alice@example.com", Roles: []string{"agent"},
		Now: testNow, TTL: time.Hour,
	}
	if mutate != nil {
		mutate(&in)
	}
	tok, _, err := session.Issue(set, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newTestVerifier(t *testing.T, jwksURL string, now time.Time) *TokenVerifier {
	t.Helper()
	v, err := NewTokenVerifier(TokenVerifierConfig{JWKSURL: jwksURL, Issuer: testIssuer, Audience: testSID,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tamper replaces the payload's subject, keeping the original signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = []byte(strings.Replace(string(payload), `"sub":"alice"`, `"sub":"carol"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// signWith signs claims with an arbitrary key and algorithm, for tokens
// samlflex would never issue.
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenVerifier(t *testing.T) {
	t.Parallel()
	set := fileKeySet(t)
	other := fileKeySet(t)
	j := newJWKSServer(t, set)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	goodClaims := map[string]any{"iss": testIssuer, "aud": testSID, "sub": "alice", "exp": testNow.Add(time.Hour).Unix()}

	tests := []struct {
		name     string
		token    string
		now      time.Time
		wantCode TokenCode // "" means accepted
	}{
		{"valid", issue(t, set, nil), testNow, ""},
		{"valid near expiry", issue(t, set, nil), testNow.Add(time.Hour - time.Second), ""},
		// Tokens of an RS256 deployment, and those issued before token
		// keys existed, verify with the RSA keys the JWKS still lists.
		{"RS256 valid", issue(t, set, func(in *session.Input) { in.Alg = session.RS256 }), testNow, ""},
		{"expired", issue(t, set, nil), testNow.Add(time.Hour + time.Minute), TokenExpired},
		{"issued in the future", issue(t, set, nil), testNow.Add(-5 * time.Minute), TokenNotYetValid},
		{"tampered payload", tamper(t, issue(t, set, nil)), testNow, TokenSignatureInvalid},
		{"wrong audience", issue(t, set, func(in *session.Input) { in.AccountSID = samlflextest.AccountSID }), testNow, TokenAudienceMismatch},
		{"wrong issuer", issue(t, set, func(in *session.Input) { in.Issuer = "https://other.example" }), testNow, TokenIssuerMismatch},
		{"key not published", issue(t, other, nil), testNow, TokenUnknownKey},
		{"published kid, other key", signWith(t, jose.RS256, other.Current.Signer, set.Current.Kid, goodClaims), testNow, TokenSignatureInvalid},
		{"ES256 with unknown key", signWith(t, jose.ES256, ec, "ec-1", goodClaims), testNow, TokenUnknownKey},
		{"HS256 refused", signWith(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), set.Current.Kid, goodClaims), testNow, TokenMalformed},
		{"alg none", "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice"}`)) + ".", testNow, TokenMalformed},
		{"no exp", signWith(t, jose.RS256, set.Current.Signer, set.Current.Kid, map[string]any{"iss": testIssuer, "aud": testSID, "sub": "alice"}), testNow, TokenMalformed},
		{"no kid", signWith(t, jose.RS256, set.Current.Signer, "", goodClaims), testNow, TokenMalformed},
		{"garbage", "not-a-token", testNow, TokenMalformed},
		{"empty", "", testNow, TokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := newTestVerifier(t, j.srv.URL, tc.now).Verify(t.Context(), tc.token)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				wantKid, wantAlg := set.Current.Token.Kid, "ES256"
				if strings.HasPrefix(tc.name, "RS256") {
					wantKid, wantAlg = set.Current.Kid, "RS256"
				}
				if c.Subject != "alice" || c.Name != "Alice Agent" || c.Email != "alice@example.com" ||
					len(c.Roles) != 1 || c.Roles[0] != "agent" || c.KeyID != wantKid || c.Algorithm != wantAlg {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			var te *TokenError
			if !errors.As(err, &te) || te.Code != tc.wantCode {
				t.Fatalf("err = %v, want code %s", err, tc.wantCode)
			}
			if strings.Contains(te.Message, tc.token) && tc.token != "" {
				t.Error("public message echoes the token")
			}
		})
	}
}

// TestTokenVerifierJWKSCache: the JWKS is fetched once, refetched when a
// token names a kid it does not know (rotation), and a failed fetch is
// jwks_unavailable.
func TestTokenVerifierJWKSCache(t *testing.T) {
	t.Parallel()
	setA, setB := fileKeySet(t), fileKeySet(t)
	j := newJWKSServer(t, setA)
	v := newTestVerifier(t, j.srv.URL, testNow)
	ctx := t.Context()
	for range 3 {
		if _, err := v.Verify(ctx, issue(t, setA, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := j.fetches.Load(); n != 1 {
		t.Errorf("fetches after three tokens = %d, want 1", n)
	}
	j.set.Store(setB)
	if _, err := v.Verify(ctx, issue(t, setB, nil)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := j.fetches.Load(); n != 2 {
		t.Errorf("fetches after rotation = %d, want 2", n)
	}

	j.fail.Store(true)
	_, err := newTestVerifier(t, j.srv.URL, testNow).Verify(ctx, issue(t, setA, nil))
	var te *TokenError
	if !errors.As(err, &te) || te.Code != JWKSUnavailable {
		t.Fatalf("err = %v, want jwks_unavailable", err)
	}
}

func TestNewTokenVerifierRequiresIssuerAndAudience(t *testing.T) {
	t.Parallel()
	for _, cfg := range []TokenVerifierConfig{
		{Issuer: testIssuer, Audience: testSID},
		{JWKSURL: "http://127.0.0.1/jwks", Audience: testSID},
		{JWKSURL: "http://127.0.0.1/jwks", Issuer: testIssuer},
	} {
		if _, err := NewTokenVerifier(cfg); err == nil {
			t.Errorf("NewTokenVerifier(%+v) accepted", cfg)
		}
	}
}

// TestWhoami: the landing page's token check over HTTP.
func TestWhoami(t *testing.T) {
	t.Parallel()
	set := fileKeySet(t)
	j := newJWKSServer(t, set)
	mux := desktopMux(t, DesktopConfig{WhoamiURL: "http://127.0.0.1:8080" + WhoamiPath, Verifier: newTestVerifier(t, j.srv.URL, testNow)})
	expired := issue(t, set, func(in *session.Input) { in.Now = testNow.Add(-2 * time.Hour) })
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    TokenCode
	}{
		{"form", "application/x-www-form-urlencoded", url.Values{"token": {issue(t, set, nil)}}.Encode(), http.StatusOK, ""},
		{"json", "application/json", `{"token":"` + issue(t, set, nil) + `"}`, http.StatusOK, ""},
		{"tampered", "application/x-www-form-urlencoded", url.Values{"token": {tamper(t, issue(t, set, nil))}}.Encode(), http.StatusUnauthorized, TokenSignatureInvalid},
		{"expired", "application/x-www-form-urlencoded", url.Values{"token": {expired}}.Encode(), http.StatusUnauthorized, TokenExpired},
		{"wrong audience", "application/x-www-form-urlencoded", url.Values{"token": {issue(t, set, func(in *session.Input) { in.AccountSID = samlflextest.AccountSID })}}.Encode(), http.StatusUnauthorized, TokenAudienceMismatch},
		{"no token", "application/x-www-form-urlencoded", "", http.StatusUnauthorized, TokenMalformed},
		{"bad json", "application/json", "{", http.StatusBadRequest, TokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, WhoamiPath, strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header: a landing page on another origin could not read the answer")
			}
			var got struct {
				Verified bool      `json:"verified"`
				Sub      string    `json:"sub"`
				Name     string    `json:"name"`
				Email    string    `json:"email"`
				Roles    []string  `json:"roles"`
				Exp      int64     `json:"exp"`
				Code     TokenCode `json:"code"`
				Message  string    `json:"message"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if tc.wantCode == "" {
				if !got.Verified || got.Sub != "alice" || got.Name != "Alice Agent" || got.Email != "alice@example.com" ||
					len(got.Roles) != 1 || got.Exp != testNow.Add(time.Hour).Unix() {
					t.Errorf("answer = %+v", got)
				}
				return
			}
			if got.Verified || got.Code != tc.wantCode || got.Message == "" || got.Sub != "" {
				t.Errorf("answer = %+v, want code %s", got, tc.wantCode)
			}
		})
	}
}

func TestWhoamiPreflight(t *testing.T) {
	t.Parallel()
	mux := desktopMux(t, DesktopConfig{WhoamiURL: "http://127.0.0.1:8080" + WhoamiPath,
		Verifier: newTestVerifier(t, "http://127.0.0.1:1/jwks", testNow)})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodOptions, WhoamiPath, nil))
	if w.Code != http.StatusNoContent || !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
}

// TestDesktopPage: the ids a browser test reads are there, and the page
// points its script at the configured whoami.
func TestDesktopPage(t *testing.T) {
	t.Parallel()
	mux := desktopMux(t, DesktopConfig{WhoamiURL: "http://127.0.0.1:8080" + WhoamiPath, LoginURL: "http://127.0.0.1:8080/login",
		Verifier: newTestVerifier(t, "http://127.0.0.1:1/jwks", testNow)})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, DesktopPath, nil))
	page := w.Body.String()
	for _, want := range []string{`id="identity"`, `id="roles"`, `id="full-name"`, `id="email"`, `id="error"`,
		`data-whoami="http://127.0.0.1:8080/demo/api/whoami"`, `href="http://127.0.0.1:8080/login"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src http://127.0.0.1:8080") {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(page, " src=") {
		t.Error("page loads an external resource")
	}
}

// desktopMux is a mux serving the demo desktop built from cfg.
func desktopMux(t *testing.T, cfg DesktopConfig) *http.ServeMux {
	t.Helper()
	d, err := NewDesktop(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Register(mux)
	return mux
}
