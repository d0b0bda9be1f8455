package lambda_test

import (
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// tokenClaims is what the test reads from a session token.
type tokenClaims struct {
	jwt.Claims
	Name     string   `json:"name"`
	Email    string   `json:"email"`
	Roles    []string `json:"roles"`
	AuthTime int64    `json:"auth_time"`
	kid      string
}

// verifyToken verifies token as a relying party does, with go-jose's jwt
// package rather than samlflex's session package (which signed it): the
// signature against the key of the JWKS document that the header's kid
// names, then iss (the base URL), aud (the Account SID) and exp at now.
func verifyToken(t *testing.T, token string, jwksDoc []byte, now time.Time) tokenClaims {
	t.Helper()
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(jwksDoc, &jwks); err != nil {
		t.Fatalf("JWKS: %v\n%s", err, jwksDoc)
	}
	// ES256 only: the function runs with the default token algorithm, and
	// a verifier that accepted any algorithm the token names could be
	// downgraded.
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].ExtraHeaders["typ"] != "JWT" {
		t.Errorf("token headers %+v: want one, with typ JWT", tok.Headers)
	}
	var c tokenClaims
	c.kid = tok.Headers[0].KeyID
	keys := jwks.Key(c.kid)
	if len(keys) != 1 {
		t.Fatalf("token kid %q: %d keys in the JWKS, want 1", c.kid, len(keys))
	}
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("token signature: %v", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: baseURL, AnyAudience: jwt.Audience{loginSID}, Time: now}, 0); err != nil {
		t.Fatalf("token claims %+v: %v", c, err)
	}
	if len(c.Audience) != 1 {
		t.Errorf("aud %q, want the Account SID alone", c.Audience)
	}
	return c
}
