package keys

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"regexp"
	"testing"
	"time"
)

// testNow is a fixed instant: tests never depend on the wall clock.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		alg       Algorithm
		wantUsage x509.KeyUsage
		checkKey  func(t *testing.T, p *Pair)
	}{
		{
			name:      "rsa2048",
			alg:       RSA2048,
			wantUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			checkKey: func(t *testing.T, p *Pair) {
				k, ok := p.Signer.(*rsa.PrivateKey)
				if !ok || k.N.BitLen() != 2048 {
					t.Fatalf("signer = %T, want 2048-bit RSA", p.Signer)
				}
			},
		},
		{
			name:      "p256",
			alg:       P256,
			wantUsage: x509.KeyUsageDigitalSignature,
			checkKey: func(t *testing.T, p *Pair) {
				k, ok := p.Signer.(*ecdsa.PrivateKey)
				if !ok || k.Curve.Params().Name != "P-256" {
					t.Fatalf("signer = %T, want ECDSA P-256", p.Signer)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			validity := 90 * 24 * time.Hour
			p, err := Generate(tt.alg, testNow, validity, "samlflex test SP", rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tt.checkKey(t, p)
			c := p.Certificate
			if c.Subject.CommonName != "samlflex test SP" {
				t.Errorf("CN = %q", c.Subject.CommonName)
			}
			if want := testNow.Add(-5 * time.Minute); !c.NotBefore.Equal(want) {
				t.Errorf("NotBefore = %s, want %s", c.NotBefore, want)
			}
			if want := testNow.Add(validity); !c.NotAfter.Equal(want) {
				t.Errorf("NotAfter = %s, want %s", c.NotAfter, want)
			}
			if c.KeyUsage != tt.wantUsage {
				t.Errorf("KeyUsage = %v, want %v", c.KeyUsage, tt.wantUsage)
			}
			if c.IsCA {
				t.Error("generated certificate is a CA")
			}
			if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 127 {
				t.Errorf("serial %v is not a positive 127-bit number", c.SerialNumber)
			}
			// CheckSignatureFrom would demand a CA parent; a leaf signed by
			// its own key is checked directly.
			if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			// The kid is derived from the SubjectPublicKeyInfo, so anyone
			// with the certificate can recompute it.
			sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
			if want := base64.RawURLEncoding.EncodeToString(sum[:16]); p.Kid != want {
				t.Errorf("Kid = %q, want %q", p.Kid, want)
			}
			if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(p.Kid) {
				t.Errorf("Kid %q is not 22 base64url characters", p.Kid)
			}
			if err := SelfTest(p, rand.Reader); err != nil {
				t.Errorf("SelfTest: %v", err)
			}
			// Every generated pair has its P-256 session-token key, with
			// its own derived kid.
			if p.Token == nil || p.Token.Signer.Curve.Params().Name != "P-256" {
				t.Fatalf("token key = %+v, want ECDSA P-256", p.Token)
			}
			if want, _ := KidFor(p.Token.Signer.Public()); p.Token.Kid != want || p.Token.Kid == p.Kid {
				t.Errorf("token kid = %q, want %q (and not the pair's %q)", p.Token.Kid, want, p.Kid)
			}
		})
	}
}

func TestGenerateDistinctSerials(t *testing.T) {
	t.Parallel()
	a := mustGenerate(t, P256, testNow)
	b := mustGenerate(t, P256, testNow)
	if a.Certificate.SerialNumber.Cmp(b.Certificate.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
	if a.Kid == b.Kid {
		t.Error("two keys share a kid")
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		alg      Algorithm
		validity time.Duration
		cn       string
	}{
		{"unsupported algorithm", "ED25519", time.Hour, "sp"},
		{"zero validity", P256, 0, "sp"},
		{"negative validity", P256, -time.Hour, "sp"},
		{"empty common name", P256, time.Hour, "  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Generate(tt.alg, testNow, tt.validity, tt.cn, rand.Reader); err == nil {
				t.Fatal("Generate succeeded, want error")
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	p := mustGenerate(t, P256, testNow)
	fp := Fingerprint(p.Certificate)
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) {
		t.Errorf("Fingerprint = %q, want 32 colon-separated hex bytes", fp)
	}
}

// mustGenerate makes a pair valid for a year from now.
func mustGenerate(t *testing.T, alg Algorithm, now time.Time) *Pair {
	t.Helper()
	p, err := Generate(alg, now, 365*24*time.Hour, "samlflex test SP", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
