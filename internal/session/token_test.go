package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

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

// header returns a compact JWS's alg and kid.
func header(t *testing.T, tok string) (alg, kid string) {
	t.Helper()
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := obj.Signatures[0].Header
	return h.Algorithm, h.KeyID
}

// TestTokenKeys: an RSA pair with a token key signs ES256 with the token
// key by default and RS256 with its own key when asked; a pair without one
// (a set stored before token keys) signs RS256 whatever the setting. The
// JWKS lists both keys of every verifying pair, so tokens of either kind
// verify until they expire, across the upgrade and a rotation.
func TestTokenKeys(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	gen := func(cn string) *keys.Pair {
		p, err := keys.Generate(keys.RSA2048, now, 24*time.Hour, cn, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if p.Token == nil || p.Token.Kid == p.Kid {
			t.Fatalf("Generate: token key %+v", p.Token)
		}
		return p
	}
	cur, prev, next := gen("cur"), gen("prev"), gen("next")
	legacy := *prev
	legacy.Token = nil
	set := &keys.Set{Previous: prev, Current: cur, Next: next}
	jwks, err := JWKS(set)
	if err != nil {
		t.Fatal(err)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &ks); err != nil {
		t.Fatal(err)
	}
	kty := map[string]string{}
	for _, k := range ks.Keys {
		switch k.Key.(type) {
		case *ecdsa.PublicKey:
			kty[k.KeyID] = "EC/" + k.Algorithm
		case *rsa.PublicKey:
			kty[k.KeyID] = "RSA/" + k.Algorithm
		}
	}
	for _, p := range []*keys.Pair{prev, cur, next} {
		if kty[p.Kid] != "RSA/RS256" || kty[p.Token.Kid] != "EC/ES256" {
			t.Errorf("JWKS %v lacks %s (RSA) or %s (EC)", kty, p.Kid, p.Token.Kid)
		}
	}
	if len(ks.Keys) != 6 {
		t.Errorf("JWKS has %d keys, want 6", len(ks.Keys))
	}

	in := Input{Issuer: "https://sso.example.com", Subject: "jane", AccountSID: "AC1", Now: now, TTL: time.Hour}
	for _, tc := range []struct {
		name      string
		set       *keys.Set
		alg       Alg
		wantAlg   string
		wantKid   string
		verifySet *keys.Set // whose JWKS verifies it
	}{
		{"default is ES256", set, "", "ES256", cur.Token.Kid, set},
		{"ES256", set, ES256, "ES256", cur.Token.Kid, set},
		{"RS256 setting", set, RS256, "RS256", cur.Kid, set},
		{"old set without token keys", &keys.Set{Current: &legacy}, ES256, "RS256", legacy.Kid, set},
		{"issued before the rotation", &keys.Set{Current: prev}, ES256, "ES256", prev.Token.Kid, set},
	} {
		in := in
		in.Alg = tc.alg
		tok, _, err := Issue(tc.set, in, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if alg, kid := header(t, tok); alg != tc.wantAlg || kid != tc.wantKid {
			t.Errorf("%s: header alg %s kid %s, want %s %s", tc.name, alg, kid, tc.wantAlg, tc.wantKid)
		}
		if _, err := Verify(tok, jwks, in.Issuer, "AC1", now); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// A token key's kid with another key's signature is refused.
	forged := *cur
	forged.Token = &keys.TokenKey{Kid: cur.Token.Kid, Signer: next.Token.Signer}
	tok, _, err := Issue(&keys.Set{Current: &forged}, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(tok, jwks, in.Issuer, "AC1", now); err == nil {
		t.Error("token signed by another token key accepted")
	}
}

func TestParseAlg(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Alg{"": ES256, "ES256": ES256, " es256 ": ES256, "RS256": RS256, "rs256": RS256} {
		if got, err := ParseAlg(in); err != nil || got != want {
			t.Errorf("ParseAlg(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"HS256", "none", "PS256", "ES384"} {
		if _, err := ParseAlg(in); err == nil {
			t.Errorf("ParseAlg(%q) accepted", in)
		}
	}
}

// BenchmarkIssue is the session token's share of a login, per algorithm.
func BenchmarkIssue(b *testing.B) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	cur, err := keys.Generate(keys.RSA2048, now, 24*time.Hour, "cur", rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	set := &keys.Set{Current: cur}
	for _, alg := range []Alg{ES256, RS256} {
		b.Run(string(alg), func(b *testing.B) {
			in := Input{Issuer: "https://sso.example.com", Subject: "jane", AccountSID: "AC1", Roles: []string{"agent"}, Now: now, TTL: time.Hour, Alg: alg}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Issue(set, in, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSignCompactMatchesGoJose: signCompact writes what go-jose's Signer
// writes. RSA PKCS #1 v1.5 signatures are deterministic, so an RS256 token
// must equal go-jose's byte for byte (header included); ECDSA signatures
// are randomized, so an ES256 token must carry a 64-byte R || S that
// go-jose verifies, under the same header.
func TestSignCompactMatchesGoJose(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	pair, err := keys.Generate(keys.RSA2048, now, 24*time.Hour, `k"\u2028<`, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"sub":"jane","roles":["agent"]}`)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
		kid string
	}{{jose.RS256, pair.Signer, pair.Kid}, {jose.ES256, pair.Token.Signer, pair.Token.Kid}} {
		got, err := signCompact(tc.key, tc.alg, tc.kid, payload)
		if err != nil {
			t.Fatal(err)
		}
		js, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: jose.JSONWebKey{Key: tc.key, KeyID: tc.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := js.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		want, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		gotParts, wantParts := strings.Split(got, "."), strings.Split(want, ".")
		if len(gotParts) != 3 || gotParts[0] != wantParts[0] || gotParts[1] != wantParts[1] {
			t.Fatalf("%s: header and payload %q, go-jose %q", tc.alg, got, want)
		}
		if tc.alg == jose.RS256 && got != want {
			t.Fatalf("RS256 token differs from go-jose's:\n%s\n%s", got, want)
		}
		sig, err := base64.RawURLEncoding.DecodeString(gotParts[2])
		if err != nil || (tc.alg == jose.ES256 && len(sig) != 64) {
			t.Fatalf("%s signature: %d bytes, %v", tc.alg, len(sig), err)
		}
		parsed, err := jose.ParseSignedCompact(got, []jose.SignatureAlgorithm{tc.alg})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := parsed.Verify(tc.key.Public()); err != nil || string(p) != string(payload) {
			t.Fatalf("%s: go-jose does not verify the token: %v", tc.alg, err)
		}
	}
}

// TestRawECDSA: rawECDSA pads short R and S to 32 bytes and refuses what
// is not an ECDSA-Sig-Value on P-256.
func TestRawECDSA(t *testing.T) {
	t.Parallel()
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	got, err := rawECDSA(der(big.NewInt(1), big.NewInt(0x0102)))
	if err != nil || len(got) != 64 || got[31] != 1 || got[62] != 1 || got[63] != 2 {
		t.Fatalf("%x %v", got, err)
	}
	big257 := new(big.Int).Lsh(big.NewInt(1), 256)
	for name, in := range map[string][]byte{
		"not asn1":   []byte("xx"),
		"trailing":   append(der(big.NewInt(1), big.NewInt(1)), 0),
		"zero R":     der(big.NewInt(0), big.NewInt(1)),
		"negative S": der(big.NewInt(1), big.NewInt(-1)),
		"257-bit R":  der(big257, big.NewInt(1)),
	} {
		if _, err := rawECDSA(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
