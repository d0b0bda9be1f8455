package lambda_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/doctor"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

// TestDoctor runs the checks of `samlflex doctor` (internal/doctor, the
// code the CLI runs) against the acs and metadata functions under the RIE,
// behind a stand-in for API Gateway: an https server on 127.0.0.1 with a
// certificate for sso.example.com from a test CA, routing as infra.Routes
// does and turning each request into a payload 2.0 event. Doctor's
// transport dials that server for sso.example.com (like curl --resolve)
// and trusts the test CA, so TLS is verified for the real host name.
func TestDoctor(t *testing.T) {
	samlflextest.DynamoDBEndpoint(t)
	rieBinary(t)
	functionBootstrap(t, "acs")
	st := newStack(t)
	fns := map[string]*function{"acs": st.start(t, "acs", keysSecret), "metadata": st.start(t, "metadata", keysSecret)}

	pool, cert := gatewayCert(t, "sso.example.com")
	gw := httptest.NewUnstartedServer(gateway(t, fns))
	gw.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	gw.StartTLS()
	t.Cleanup(gw.Close)
	addr := gw.Listener.Addr().String()
	var dialer net.Dialer
	tr := &http.Transport{
		DialContext:     func(ctx context.Context, _, _ string) (net.Conn, error) { return dialer.DialContext(ctx, "tcp", addr) },
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}
	t.Cleanup(tr.CloseIdleConnections)

	type check struct {
		name   string
		status doctor.Status
		seen   string
	}
	tests := []struct {
		name       string
		sid        string
		wantFailed bool
		want       []check
	}{
		{name: "deployed stack", sid: sid, wantFailed: true, want: []check{
			{"tls", doctor.StatusOK, "certificate for sso.example.com (names sso.example.com)"},
			{"healthz", doctor.StatusOK, "HTTP 200"},
			{"clock.http_date", doctor.StatusOK, "agrees"},
			{"metadata", doctor.StatusOK, "HTTP 200"},
			{"metadata.entity_id", doctor.StatusOK, baseURL + accountPath + "/metadata"},
			{"metadata.acs_url", doctor.StatusOK, baseURL + accountPath},
			// The harness's keys are valid for 48 hours: a warning.
			{"metadata.certificate[0]", doctor.StatusWarn, `CN "cur", valid`},
			{"metadata.certificate[1]", doctor.StatusWarn, `CN "next", valid`},
			{"login", doctor.StatusOK, "HTTP 302 to " + idpSSOURL},
			{"login.idp", doctor.StatusOK, idpSSOURL},
			{"login.authn_request", doctor.StatusOK, "AuthnRequest _samlflex_"},
			{"login.signature", doctor.StatusOK, "unsigned"},
			{"login.acs_url", doctor.StatusOK, baseURL + accountPath},
			{"login.issuer", doctor.StatusOK, baseURL + accountPath + "/metadata"},
			{"clock.saml", doctor.StatusOK, "agrees"},
			{"jwks", doctor.StatusOK, "4 keys, kids " + st.cur.Token.Kid + ", " + st.cur.Kid + ", " + st.next.Token.Kid + ", " + st.next.Kid},
			{"jwks.current", doctor.StatusOK, "the current kid " + st.cur.Kid + " is published; the keys of the 2 metadata certificates are published"},
			// The harness writes the key set directly, as the deploy-time
			// rotation would, but smfake's secret has no rotation
			// configured: exactly what doctor must catch.
			{"rotation", doctor.StatusFail, "rotation is disabled on " + keysSecret},
		}},
		{name: "account not created", sid: "ACffffffffffffffffffffffffffffffff", wantFailed: true, want: []check{
			{"healthz", doctor.StatusOK, "HTTP 200"},
			{"metadata", doctor.StatusFail, "HTTP 404 (unknown_account)"},
			{"login", doctor.StatusFail, "HTTP 404 (unknown_account)"},
			{"jwks", doctor.StatusOK, "4 keys"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sequential: each function serves one invocation at a time.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			rep, err := doctor.Run(ctx, doctor.Config{BaseURL: baseURL, AccountSID: tt.sid, IdPSSOURL: idpSSOURL,
				Transport: tr, Secrets: st.smc, KeysSecretID: keysSecret})
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			for _, f := range rep.Findings {
				fmt.Fprintf(&all, "  %s %s: %s\n", f.Status, f.Check, f.Seen)
			}
			for _, c := range tt.want {
				f, ok := rep.Find(c.name)
				if !ok || f.Status != c.status || !strings.Contains(f.Seen, c.seen) {
					t.Errorf("%s: %+v, want %s containing %q\n%s", c.name, f, c.status, c.seen, all.String())
				}
			}
			if rep.Failed() != tt.wantFailed {
				t.Errorf("Failed() = %v, want %v\n%s", rep.Failed(), tt.wantFailed, all.String())
			}
		})
	}
}

// gateway is the stand-in for API Gateway's HTTP API: the routes of
// infra.Routes, each to its function, with a payload 2.0 event.
func gateway(t *testing.T, fns map[string]*function) http.Handler {
	mux := http.NewServeMux()
	for pattern, fn := range map[string]string{
		"GET /v1/Accounts/{sid}/saml2/metadata": "metadata",
		"GET /.well-known/jwks.json":            "metadata",
		"GET /healthz":                          "metadata",
		"GET /v1/Accounts/{sid}/saml2/login":    "acs",
		"POST /v1/Accounts/{sid}/saml2":         "acs",
	} {
		mux.Handle(pattern, invokeHandler(t, fns[fn]))
	}
	return mux
}

func invokeHandler(t *testing.T, fn *function) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev := httpEvent{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, requestID: newRequestID(),
			headers: map[string]string{"user-agent": r.UserAgent()}}
		for _, c := range r.Cookies() {
			ev.cookies = append(ev.cookies, c.Name+"="+c.Value)
		}
		resp, err := invokeGateway(r.Context(), fn, ev.json(t))
		if err != nil {
			// API Gateway's answer when the integration fails.
			http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
			return
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		for _, c := range resp.Cookies {
			w.Header().Add("Set-Cookie", c)
		}
		body := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
				return
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	})
}

// invokeGateway is function.invoke for a handler goroutine: errors are
// returned, not t.Fatal'd.
func invokeGateway(ctx context.Context, fn *function, payload []byte) (httpResponse, error) {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fn.url, bytes.NewReader(payload))
	if err != nil {
		return httpResponse{}, err
	}
	resp, err := fn.client.Do(req)
	if err != nil {
		return httpResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return httpResponse{}, err
	}
	var out httpResponse
	if err := json.Unmarshal(b, &out); err != nil || out.ErrorMessage != "" || out.StatusCode == 0 {
		return httpResponse{}, fmt.Errorf("invocation of %s failed: %s", fn.name, b)
	}
	return out, nil
}

// gatewayCert issues a certificate for host from a fresh test CA and
// returns the pool that trusts it.
func gatewayCert(t *testing.T, host string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lambda test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
