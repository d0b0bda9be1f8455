package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const (
	testSID    = samlflextest.AccountSID
	testIdPSSO = "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"
)

// testCA is a private CA that the doctor's transport trusts in tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "samlflex doctor test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf issues a server certificate for names, valid from notBefore to
// notAfter.
func (ca *testCA) leaf(t *testing.T, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// deployment is the real samlflex handler (httpapi over the embedded store
// and file keys, as `samlflex serve` wires it) behind an httptest server on
// 127.0.0.1, with a test account.
type deployment struct {
	srv       *httptest.Server
	transport *http.Transport
}

type deployOpts struct {
	baseURL string // the server's own base URL (its SAMLFLEX_BASE_URL)
	// tlsCert, when set, serves https with it; the transport trusts pool.
	tlsCert *tls.Certificate
	pool    *x509.CertPool
	// keySet, when set, is written as the file keys before start.
	keySet *keys.Set
	// wrap breaks the deployment on purpose (rewrites answers).
	wrap func(http.Handler) http.Handler
	now  func() time.Time
	// signAuthn turns on the account's SignAuthnRequests.
	signAuthn bool
}

func deploy(t *testing.T, o deployOpts) *deployment {
	t.Helper()
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	if o.now == nil {
		o.now = time.Now
	}
	if o.keySet != nil {
		b, err := keys.MarshalSet(o.keySet)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filekeys.FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := boltstore.Open(filepath.Join(dir, "samlflex.db"), boltstore.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	acct := samlflex.Account{AccountSID: testSID, FriendlyName: "Salesforce", IdPCertificates: []string{idpCertPEM(t)},
		IdPIssuer: "https://acme.my.salesforce.com", IdPSSOURL: testIdPSSO, StartURL: "https://flex.twilio.com/agent-desktop", SignAuthnRequests: o.signAuthn}
	if _, err := st.Put(ctx, acct, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	ks, err := filekeys.Open(dir, o.now, logger)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{BaseURL: o.baseURL, Store: st, Keys: ks, Logger: logger, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = api
	if o.wrap != nil {
		h = o.wrap(h)
	}
	srv := httptest.NewUnstartedServer(h)
	// The failed handshakes of the certificate cases are expected.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if o.tlsCert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*o.tlsCert}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	// Whatever host the base URL names, connect to the test server: what
	// curl --resolve does. TLS still verifies against that host name.
	addr := srv.Listener.Addr().String()
	var dialer net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: o.pool},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &deployment{srv: srv, transport: tr}
}

// idpCertPEM is a throwaway IdP certificate: the account needs one, and
// doctor never verifies an assertion.
func idpCertPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test IdP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// run runs doctor against d as base URL base.
func (d *deployment) run(t *testing.T, cfg Config) *Report {
	t.Helper()
	cfg.Transport = d.transport
	if cfg.AccountSID == "" {
		cfg.AccountSID = testSID
	}
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// want asserts the status of a check (and that Seen contains seen).
func want(t *testing.T, rep *Report, check string, status Status, seen string) {
	t.Helper()
	f, ok := rep.Find(check)
	if !ok {
		t.Fatalf("no finding %q in %s", check, dump(rep))
	}
	if f.Status != status || !strings.Contains(f.Seen, seen) {
		t.Errorf("%s: %s %q, want %s containing %q\n%s", check, f.Status, f.Seen, status, seen, dump(rep))
	}
	if (status == StatusWarn || status == StatusFail) && f.Fix == "" {
		t.Errorf("%s: %s without a fix", check, status)
	}
}

func dump(rep *Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("  " + string(f.Status) + " " + f.Check + ": " + f.Seen + "\n")
	}
	return b.String()
}
