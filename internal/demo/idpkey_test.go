package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreateIdPKey(t *testing.T) {
	t.Parallel()
	t.Run("created 0600 then reused", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data")
		k1, err := LoadOrCreateIdPKey(dir, testNow, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{IdPKeyFile, IdPCertFile} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
			}
		}
		k2, err := LoadOrCreateIdPKey(dir, testNow.Add(time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		if k1.Fingerprint() != k2.Fingerprint() || !k1.Key.Equal(k2.Key) {
			t.Error("second start made a new key")
		}
	})
	t.Run("renewed before expiry", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		k1, err := LoadOrCreateIdPKey(dir, testNow, nil)
		if err != nil {
			t.Fatal(err)
		}
		later := k1.Certificate.NotAfter.Add(-renewBefore + time.Hour)
		k2, err := LoadOrCreateIdPKey(dir, later, nil)
		if err != nil {
			t.Fatal(err)
		}
		if k1.Fingerprint() == k2.Fingerprint() || !k2.Certificate.NotAfter.After(later) {
			t.Error("a certificate about to expire was kept")
		}
	})
	tests := []struct {
		name    string
		key     func(valid []byte) []byte
		cert    func(valid []byte) []byte
		wantErr string
	}{
		{"key damaged", func([]byte) []byte { return []byte("garbage") }, nil, "not a PEM PKCS#8 private key"},
		{"certificate damaged", nil, func([]byte) []byte { return []byte("garbage") }, "not a PEM certificate"},
		{"certificate of another key", nil, func([]byte) []byte { return []byte(newTestKey(t).CertificatePEM()) }, "does not belong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if _, err := LoadOrCreateIdPKey(dir, testNow, nil); err != nil {
				t.Fatal(err)
			}
			for name, f := range map[string]func([]byte) []byte{IdPKeyFile: tc.key, IdPCertFile: tc.cert} {
				if f == nil {
					continue
				}
				p := filepath.Join(dir, name)
				b, _ := os.ReadFile(p)
				if err := os.WriteFile(p, f(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(filepath.Join(dir, IdPKeyFile))
			_, err := LoadOrCreateIdPKey(dir, testNow, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			after, _ := os.ReadFile(filepath.Join(dir, IdPKeyFile))
			if string(before) != string(after) {
				t.Error("a damaged key file was overwritten")
			}
		})
	}
}
