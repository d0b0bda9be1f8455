package session

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
)

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	for _, alg := range []keys.Algorithm{keys.RSA2048, keys.P256} {
		cur, err := keys.Generate(alg, now, time.Hour*24, "cur", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		prev, _ := keys.Generate(alg, now, time.Hour*24, "prev", rand.Reader)
		set := &keys.Set{Current: cur, Previous: prev}
		in := Input{Issuer: "https://sso.example.com", Subject: "jane", AccountSID: "AC1", Name: "Jane", Roles: []string{"agent"}, Now: now, TTL: time.Hour, AuthTime: now}
		tok, c, err := Issue(set, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		jwks, err := JWKS(set)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Verify(tok, jwks, in.Issuer, "AC1", now.Add(59*time.Minute))
		if err != nil || got.Subject != "jane" || got.ID != c.ID || got.Expiry != now.Add(time.Hour).Unix() {
			t.Fatalf("%v %+v", err, got)
		}
		// Tokens signed with the previous key still verify after rotation.
		old, _, _ := Issue(&keys.Set{Current: prev}, in, nil)
		if _, err := Verify(old, jwks, in.Issuer, "AC1", now); err != nil {
			t.Fatalf("previous key: %v", err)
		}
		for name, check := range map[string]func() error{
			"expired":  func() error { _, err := Verify(tok, jwks, in.Issuer, "AC1", now.Add(time.Hour)); return err },
			"audience": func() error { _, err := Verify(tok, jwks, in.Issuer, "AC2", now); return err },
			"issuer":   func() error { _, err := Verify(tok, jwks, "https://evil", "AC1", now); return err },
			"tampered": func() error { _, err := Verify(tok[:len(tok)-4]+"AAAA", jwks, in.Issuer, "AC1", now); return err },
			"other key": func() error {
				j, _ := JWKS(&keys.Set{Current: prev})
				_, err := Verify(tok, j, in.Issuer, "AC1", now)
				return err
			},
			"alg none": func() error {
				parts := strings.Split(tok, ".")
				_, err := Verify("eyJhbGciOiJub25lIn0."+parts[1]+".", jwks, in.Issuer, "AC1", now)
				return err
			},
		} {
			if check() == nil {
				t.Errorf("%v: %s accepted", alg, name)
			}
		}
	}
}
