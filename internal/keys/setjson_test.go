package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMarshalParseRoundTrip(t *testing.T) {
	t.Parallel()
	rsaPair := mustGenerate(t, RSA2048, testNow)
	a, b := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	tests := []struct {
		name string
		set  *Set
	}{
		{"current only", &Set{Current: a}},
		{"current and next", &Set{Current: a, Next: b}},
		{"all three, mixed algorithms", &Set{Previous: rsaPair, Current: a, Next: b}},
		// A set stored before token keys existed, once rotated: the new
		// pair has one, the others not.
		{"some pairs without token keys", &Set{Previous: withoutToken(rsaPair), Current: withoutToken(a), Next: b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, err := MarshalSet(tt.set)
			if err != nil {
				t.Fatal(err)
			}
			// The stored form always names all three slots, null when empty,
			// so that operators reading the secret see the structure.
			var generic map[string]json.RawMessage
			if err := json.Unmarshal(raw, &generic); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"previous", "current", "next"} {
				if _, ok := generic[k]; !ok {
					t.Errorf("stored JSON lacks %q", k)
				}
			}
			var cur map[string]string
			if err := json.Unmarshal(generic["current"], &cur); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cur["private_key"], "-----BEGIN PRIVATE KEY-----") ||
				!strings.HasPrefix(cur["certificate"], "-----BEGIN CERTIFICATE-----") || cur["kid"] != tt.set.Current.Kid {
				t.Errorf("current pair has the wrong shape: kid=%q", cur["kid"])
			}
			if tok := tt.set.Current.Token; tok != nil {
				if !strings.HasPrefix(cur["token_private_key"], "-----BEGIN PRIVATE KEY-----") || cur["token_kid"] != tok.Kid {
					t.Errorf("current token key has the wrong shape: token_kid=%q", cur["token_kid"])
				}
			} else if _, ok := cur["token_kid"]; ok {
				t.Error("a pair without a token key was written with token_kid")
			}
			got, err := ParseSet(raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []struct {
				name      string
				got, want *Pair
			}{{"previous", got.Previous, tt.set.Previous}, {"current", got.Current, tt.set.Current}, {"next", got.Next, tt.set.Next}} {
				if (s.got == nil) != (s.want == nil) {
					t.Fatalf("%s: got %v, want %v", s.name, s.got, s.want)
				}
				if s.got == nil {
					continue
				}
				if s.got.Kid != s.want.Kid || !bytes.Equal(s.got.Certificate.Raw, s.want.Certificate.Raw) {
					t.Errorf("%s: pair changed in the round trip", s.name)
				}
				if (s.got.Token == nil) != (s.want.Token == nil) {
					t.Fatalf("%s: token key %v, want %v", s.name, s.got.Token, s.want.Token)
				}
				if s.got.Token != nil && (s.got.Token.Kid != s.want.Token.Kid || !s.got.Token.Signer.Equal(s.want.Token.Signer)) {
					t.Errorf("%s: token key changed in the round trip", s.name)
				}
			}
		})
	}
}

func TestParseSetRejects(t *testing.T) {
	t.Parallel()
	a, b := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	valid := func() map[string]any {
		raw, err := MarshalSet(&Set{Current: a, Next: b})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cur := func(m map[string]any) map[string]any { return m["current"].(map[string]any) }
	enc := func(m map[string]any) []byte {
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weakRSA)}))
	rsaPEM, rsaKid := pkcs8PEM(t, weakRSA)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384PEM, p384Kid := pkcs8PEM(t, p384)
	tests := []struct {
		name     string
		input    []byte
		wantSlot string
		wantText string
	}{
		{"empty", nil, "", "empty or truncated"},
		{"not json", []byte("correct horse battery staple"), "", "not valid JSON"},
		{"empty object", []byte(`{}`), "current", "is required"},
		{"null current", enc(func() map[string]any { m := valid(); m["current"] = nil; return m }()), "current", "is required"},
		{"unknown field", enc(func() map[string]any { m := valid(); m["curent"] = m["current"]; return m }()), "", "unknown field"},
		{"trailing data", append(enc(valid()), []byte(` {}`)...), "", "after the JSON object"},
		{"wrong type", []byte(`{"current": "x"}`), "", "wrong JSON type"},
		{"missing kid", enc(func() map[string]any { m := valid(); cur(m)["kid"] = ""; return m }()), "current", "kid is required"},
		{"kid not derived from key", enc(func() map[string]any { m := valid(); cur(m)["kid"] = b.Kid + "x"; return m }()), "current", "kid does not match"},
		{"key does not match certificate", enc(func() map[string]any {
			m := valid()
			cur(m)["certificate"] = m["next"].(map[string]any)["certificate"]
			return m
		}()), "current", "does not match the certificate"},
		{"same key twice", enc(func() map[string]any { m := valid(); m["next"] = m["current"]; return m }()), "next", "same key as current"},
		{"private key not pem", enc(func() map[string]any { m := valid(); cur(m)["private_key"] = "MIIE..."; return m }()), "current", "not PEM"},
		{"pkcs1 instead of pkcs8", enc(func() map[string]any { m := valid(); cur(m)["private_key"] = pkcs1; return m }()), "current", "PKCS#8"},
		{"corrupt pkcs8", enc(func() map[string]any {
			m := valid()
			cur(m)["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}))
			return m
		}()), "current", "not a PKCS#8 key"},
		{"current_since not a time", enc(func() map[string]any { m := valid(); cur(m)["current_since"] = "yesterday"; return m }()), "current", "current_since is not an RFC 3339 time"},
		{"next with current_since", enc(func() map[string]any {
			m := valid()
			m["next"].(map[string]any)["current_since"] = "2026-03-01T12:00:00Z"
			return m
		}()), "next", "never been current"},
		{"certificate not pem", enc(func() map[string]any { m := valid(); cur(m)["certificate"] = "nope"; return m }()), "current", "not a PEM CERTIFICATE"},
		{"token kid not derived from the token key", enc(func() map[string]any { m := valid(); cur(m)["token_kid"] = a.Kid; return m }()), "current", "token_kid does not match"},
		{"token kid without the key", enc(func() map[string]any { m := valid(); delete(cur(m), "token_private_key"); return m }()), "current", "go together"},
		{"token key without the kid", enc(func() map[string]any { m := valid(); delete(cur(m), "token_kid"); return m }()), "current", "go together"},
		{"token key not pem", enc(func() map[string]any { m := valid(); cur(m)["token_private_key"] = "MHcC..."; return m }()), "current", "token_private_key is not PEM"},
		{"token key is RSA", enc(func() map[string]any {
			m := valid()
			cur(m)["token_private_key"], cur(m)["token_kid"] = rsaPEM, rsaKid
			return m
		}()), "current", "must be an ECDSA P-256 key"},
		{"token key on P-384", enc(func() map[string]any {
			m := valid()
			cur(m)["token_private_key"], cur(m)["token_kid"] = p384PEM, p384Kid
			return m
		}()), "current", "curve P-256"},
		{"token key of another slot", enc(func() map[string]any {
			m := valid()
			next := m["next"].(map[string]any)
			next["token_private_key"], next["token_kid"] = cur(m)["token_private_key"], cur(m)["token_kid"]
			return m
		}()), "next", "token key is the same key as current's token key"},
		{"token key is a pair's own key", enc(func() map[string]any {
			m := valid()
			cur(m)["token_private_key"], cur(m)["token_kid"] = cur(m)["private_key"], cur(m)["kid"]
			return m
		}()), "current", "token key is the same key as current"},
		{"two private keys in one field", enc(func() map[string]any {
			m := valid()
			cur(m)["private_key"] = cur(m)["private_key"].(string) + cur(m)["private_key"].(string)
			return m
		}()), "current", "data after the PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSet(tt.input)
			if err == nil {
				t.Fatal("ParseSet succeeded, want error")
			}
			if !errors.Is(err, ErrInvalidSet) {
				t.Errorf("error %v does not match ErrInvalidSet", err)
			}
			var se *SetError
			if !errors.As(err, &se) || se.Slot != tt.wantSlot {
				t.Errorf("error %v: want *SetError for slot %q", err, tt.wantSlot)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			assertNoKeyMaterial(t, err.Error(), tt.input)
		})
	}
}

// assertNoKeyMaterial fails if msg quotes any base64 line of a PEM block in
// input: errors are logged, and the input holds private keys.
func assertNoKeyMaterial(t *testing.T, msg string, input []byte) {
	t.Helper()
	var m map[string]map[string]string
	_ = json.Unmarshal(input, &m)
	for _, pair := range m {
		for _, field := range []string{"private_key", "certificate", "token_private_key"} {
			for _, line := range strings.Split(pair[field], "\n") {
				if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:16]) {
					t.Fatalf("error message quotes %s material", field)
				}
			}
		}
	}
}

func TestMarshalSetRejects(t *testing.T) {
	t.Parallel()
	a, b := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	tests := []struct {
		name string
		set  *Set
	}{
		{"nil set", nil},
		{"no current", &Set{Next: a}},
		{"kid not derived", &Set{Current: &Pair{Kid: "made-up", Signer: a.Signer, Certificate: a.Certificate}}},
		{"certificate of another key", &Set{Current: &Pair{Kid: a.Kid, Signer: a.Signer, Certificate: b.Certificate}}},
		{"missing certificate", &Set{Current: &Pair{Kid: a.Kid, Signer: a.Signer}}},
		{"duplicate", &Set{Current: a, Next: a}},
		{"token kid not derived", &Set{Current: withToken(a, &TokenKey{Kid: "made-up", Signer: a.Token.Signer})}},
		{"token key without a signer", &Set{Current: withToken(a, &TokenKey{Kid: a.Token.Kid})}},
		{"token key shared by two slots", &Set{Current: a, Next: withToken(b, a.Token)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := MarshalSet(tt.set); !errors.Is(err, ErrInvalidSet) {
				t.Fatalf("MarshalSet error = %v, want ErrInvalidSet", err)
			}
		})
	}
}

// TestCurrentSinceRoundTrip: the time survives the stored form, and a set
// written before the field existed still loads, with the time unknown (so
// its previous key is kept: see Retire).
func TestCurrentSinceRoundTrip(t *testing.T) {
	t.Parallel()
	p, c, n := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	rotated := (&Set{Previous: p, Current: c, Next: n}).Rotate(mustGenerate(t, P256, testNow), testNow.Add(1500*time.Millisecond))
	raw, err := MarshalSet(rotated)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSet(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Current.CurrentSince.Equal(testNow.Add(1500 * time.Millisecond)) {
		t.Errorf("current_since = %v after the round trip", got.Current.CurrentSince)
	}
	if !got.Previous.CurrentSince.IsZero() || !got.Next.CurrentSince.IsZero() {
		t.Error("a time appeared on a pair that had none")
	}

	// The format of earlier releases: the same fields, no current_since.
	var old map[string]map[string]string
	if err := json.Unmarshal(raw, &old); err != nil {
		t.Fatal(err)
	}
	for _, slot := range old {
		delete(slot, "current_since")
	}
	oldRaw, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(oldRaw, []byte("current_since")) {
		t.Fatal("test setup: current_since still present")
	}
	legacy, err := ParseSet(oldRaw)
	if err != nil {
		t.Fatalf("a set in the earlier format no longer loads: %v", err)
	}
	if legacy.Previous == nil || legacy.Previous.Kid != c.Kid || !legacy.Current.CurrentSince.IsZero() {
		t.Fatal("earlier-format set loaded wrongly")
	}
	if Retire(legacy, testNow.Add(365*24*time.Hour), MaxTokenLifetime, DefaultRetireMargin).ByKid(c.Kid) == nil {
		t.Error("the previous key of an earlier-format set was retired without a known rotation time")
	}
}

// TestTokenKeyFormat: a set stored before token keys existed (pairs
// without token_kid and token_private_key) still loads, with no token key
// (session tokens then stay RS256), and marshals back without them.
func TestTokenKeyFormat(t *testing.T) {
	t.Parallel()
	p, c := mustGenerate(t, RSA2048, testNow), mustGenerate(t, RSA2048, testNow)
	raw, err := MarshalSet(&Set{Previous: p, Current: c})
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]map[string]string
	if err := json.Unmarshal(raw, &old); err != nil {
		t.Fatal(err)
	}
	for _, slot := range old {
		if slot == nil {
			continue
		}
		if slot["token_kid"] == "" || slot["token_private_key"] == "" {
			t.Fatal("the new format lacks the token key")
		}
		delete(slot, "token_kid")
		delete(slot, "token_private_key")
	}
	oldRaw, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(oldRaw, []byte("token_")) {
		t.Fatal("test setup: token fields still present")
	}
	legacy, err := ParseSet(oldRaw)
	if err != nil {
		t.Fatalf("a set without token keys no longer loads: %v", err)
	}
	if legacy.Current.Kid != c.Kid || legacy.Previous.Kid != p.Kid || legacy.Current.Token != nil || legacy.Previous.Token != nil {
		t.Fatal("set without token keys loaded wrongly")
	}
	again, err := MarshalSet(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(again, []byte("token_")) {
		t.Error("a set without token keys was written with token fields")
	}
}

// withoutToken returns a copy of p without its token key, as pairs stored
// before token keys existed load.
func withoutToken(p *Pair) *Pair { return withToken(p, nil) }

func withToken(p *Pair, tok *TokenKey) *Pair {
	c := *p
	c.Token = tok
	return &c
}

// pkcs8PEM returns key as PKCS#8 PEM and its kid.
func pkcs8PEM(t *testing.T, key crypto.Signer) (string, string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := KidFor(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), kid
}
