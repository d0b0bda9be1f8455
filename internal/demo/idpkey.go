package demo

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// File names of the demo IdP's key pair inside the data directory.
const (
	IdPKeyFile  = "demo-idp.key"
	IdPCertFile = "demo-idp.crt"
)

const (
	idpKeyBits = 2048
	// idpCertValidity is long enough that a developer never meets an
	// expired demo certificate in practice; renewBefore replaces it well
	// before that anyway.
	idpCertValidity = 2 * 365 * 24 * time.Hour
	renewBefore     = 30 * 24 * time.Hour
	idpCommonName   = "samlflex demo IdP (local test only)"
)

// IdPKey is the demo IdP's signing key and self-signed certificate. The
// certificate is what the demo account trusts, as an admin would save the
// certificate downloaded from Salesforce.
type IdPKey struct {
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
}

// CertificatePEM returns the certificate as PEM, the form the account keeps.
func (k *IdPKey) CertificatePEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate.Raw}))
}

// Fingerprint is the hex SHA-256 of the certificate, for logs.
func (k *IdPKey) Fingerprint() string {
	sum := sha256.Sum256(k.Certificate.Raw)
	return hex.EncodeToString(sum[:])
}

// GenerateIdPKey makes a new RSA key with a self-signed certificate valid
// from now (minus a minute, for clocks that disagree slightly). rnd may be
// nil (crypto/rand).
func GenerateIdPKey(now time.Time, rnd io.Reader) (*IdPKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key, err := rsa.GenerateKey(rnd, idpKeyBits)
	if err != nil {
		return nil, fmt.Errorf("demo: generate IdP key: %w", err)
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("demo: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: idpCommonName, Organization: []string{"samlflex demo"}},
		NotBefore:             now.Add(-time.Minute).UTC(),
		NotAfter:              now.Add(idpCertValidity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("demo: create IdP certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("demo: parse IdP certificate: %w", err)
	}
	return &IdPKey{Key: key, Certificate: cert}, nil
}

// LoadOrCreateIdPKey reads dir/demo-idp.key and dir/demo-idp.crt, or
// generates and writes them (mode 0600) when either is missing or the
// certificate expires within 30 days. Regenerating is harmless: `samlflex
// dev` saves the current certificate into the demo account at every start.
// Files that exist but do not parse are an error and are left alone, so
// that a developer who put their own key there does not lose it.
// logger may be nil.
func LoadOrCreateIdPKey(dir string, now time.Time, logger *slog.Logger) (*IdPKey, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: create data directory: %w", err)
	}
	keyPath, certPath := filepath.Join(dir, IdPKeyFile), filepath.Join(dir, IdPCertFile)
	k, err := loadIdPKey(keyPath, certPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		logger.Info("demo_idp_key_generated", "reason", "missing", "dir", dir)
	case err != nil:
		return nil, err
	case now.Add(renewBefore).After(k.Certificate.NotAfter):
		logger.Info("demo_idp_key_generated", "reason", "certificate expires soon", "not_after", k.Certificate.NotAfter)
	default:
		return k, nil
	}
	if k, err = GenerateIdPKey(now, nil); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return nil, fmt.Errorf("demo: encode IdP key: %w", err)
	}
	// The key first: a crash between the two writes leaves a new key with
	// an old certificate, which the mismatch check below reports instead of
	// signing with a key nobody trusts.
	if err := writeFile0600(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return nil, err
	}
	if err := writeFile0600(certPath, []byte(k.CertificatePEM())); err != nil {
		return nil, err
	}
	return k, nil
}

func loadIdPKey(keyPath, certPath string) (*IdPKey, error) {
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	parsed, err := parsePEM(keyPath, keyPEM, "PRIVATE KEY", "PKCS#8 private key", x509.ParsePKCS8PrivateKey)
	if err != nil {
		return nil, err
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("demo: %s holds a %T, want an RSA key; delete it to get a new demo key", keyPath, parsed)
	}
	cert, err := parsePEM(certPath, certPEM, "CERTIFICATE", "certificate", x509.ParseCertificate)
	if err != nil {
		return nil, err
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("demo: %s does not belong to %s; delete both to get a new demo key", certPath, keyPath)
	}
	return &IdPKey{Key: key, Certificate: cert}, nil
}

// parsePEM parses the first PEM block of data, read from path, which must
// be of type typ (what names that type for the admin). Its errors tell the
// admin how to recover: a new demo key is one deleted file away.
func parsePEM[T any](path string, data []byte, typ, what string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return zero, fmt.Errorf("demo: %s is not a PEM %s; delete it to get a new demo key", path, what)
	}
	v, err := parse(b.Bytes)
	if err != nil {
		return zero, fmt.Errorf("demo: %s: %w; delete it to get a new demo key", path, err)
	}
	return v, nil
}

// writeFile0600 writes through a temporary file and a rename, so that an
// interrupted start never leaves half a key behind.
func writeFile0600(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	return nil
}
