package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	jwksTimeout = 5 * time.Second
	// tokenLeeway is the clock difference allowed between samlflex and
	// this test (one machine: only rounding to whole seconds).
	tokenLeeway = 5 * time.Second
)

// landingPage stands in for the agent desktop (the account's start URL)
// under `samlflex serve`, which has no demo page: its script reads the
// token from the #token= fragment and asks the server to verify it, as a
// relying party would, against the JWKS that samlflex publishes. The page
// then shows who logged in (ids identity, roles, full-name, email) or why
// not (id error), and finally an element with id done.
const landingPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agent desktop (test)</title></head>
<body><h1>Agent desktop (test)</h1><main id="out"></main>
<script>
(async () => {
  const out = document.getElementById('out');
  const add = (id, text) => {
    const p = document.createElement('p');
    p.id = id;
    p.textContent = text;
    out.appendChild(p);
  };
  try {
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    if (!token) throw new Error('no #token= in the address');
    const r = await fetch('/verify', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({token})});
    const body = await r.json();
    if (!r.ok) throw new Error(body.error);
    add('identity', body.sub);
    add('roles', body.roles.join(', '));
    add('full-name', body.name);
    add('email', body.email);
  } catch (e) {
    add('error', String(e.message || e));
  }
  add('done', 'done');
})();
</script></body></html>
`

// tokenClaims are the session token's claims that the tests check.
type tokenClaims struct {
	jwt.Claims
	Name  string   `json:"name"`
	Email string   `json:"email"`
	Roles []string `json:"roles"`
}

// landing is the test's agent desktop: it serves landingPage and verifies
// tokens for it.
type landing struct {
	URL string // the start URL

	samlflexBase string
	accountSID   string

	mu       sync.Mutex
	verified []tokenClaims // every token that verified, in order
	requests []string      // every request URI, to check no token leaks
}

// startLanding runs the landing page on 127.0.0.1 until t ends. Tokens must
// be issued by samlflexBase (iss) for accountSID (aud).
func startLanding(t *testing.T, samlflexBase, accountSID string) *landing {
	t.Helper()
	l := &landing{samlflexBase: samlflexBase, accountSID: accountSID}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /desktop", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, landingPage)
	})
	mux.HandleFunc("POST /verify", l.handleVerify)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.requests = append(l.requests, r.Method+" "+r.RequestURI)
		l.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	l.URL = srv.URL + "/desktop"
	return l
}

func (l *landing) handleVerify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad request: " + err.Error()})
		return
	}
	c, err := l.verify(r.Context(), in.Token)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "token refused: " + err.Error()})
		return
	}
	l.mu.Lock()
	l.verified = append(l.verified, c)
	l.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"sub": c.Subject, "name": c.Name, "email": c.Email, "roles": c.Roles})
}

// verify checks a token with go-jose against the JWKS fetched from
// samlflex, as the agent desktop's backend would: signature by a published
// key (by kid), algorithm, issuer, audience and lifetime.
func (l *landing) verify(ctx context.Context, token string) (tokenClaims, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.samlflexBase+"/.well-known/jwks.json", nil)
	if err != nil {
		return tokenClaims{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return tokenClaims{}, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return tokenClaims{}, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return tokenClaims{}, fmt.Errorf("JWKS: %w", err)
	}

	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return tokenClaims{}, fmt.Errorf("parse: %w", err)
	}
	if len(tok.Headers) != 1 {
		return tokenClaims{}, fmt.Errorf("%d signatures, want 1", len(tok.Headers))
	}
	h := tok.Headers[0]
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return tokenClaims{}, fmt.Errorf("JWKS has %d keys with kid %q, want 1", len(keys), h.KeyID)
	}
	if keys[0].Algorithm != "" && keys[0].Algorithm != h.Algorithm {
		return tokenClaims{}, fmt.Errorf("token alg %s, key alg %s", h.Algorithm, keys[0].Algorithm)
	}
	var c tokenClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return tokenClaims{}, fmt.Errorf("signature: %w", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{
		Issuer:      l.samlflexBase,
		AnyAudience: jwt.Audience{l.accountSID},
		Time:        time.Now(),
	}, tokenLeeway); err != nil {
		return tokenClaims{}, err
	}
	if c.Expiry == nil || c.IssuedAt == nil {
		return tokenClaims{}, fmt.Errorf("exp or iat missing")
	}
	return c, nil
}

// Verified returns the claims of every token that verified so far.
func (l *landing) Verified() []tokenClaims {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.verified)
}

// checkNoTokenLeak fails t if a token reached the landing server in a
// request address: the token travels in the fragment, which browsers never
// send to servers.
func (l *landing) checkNoTokenLeak(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.requests {
		if strings.Contains(r, "token") {
			t.Errorf("landing server got a request naming the token: %s", r)
		}
	}
}
