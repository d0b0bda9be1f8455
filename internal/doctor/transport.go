package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// checkTransport checks how the service is reached (TLS, or plain http on
// loopback) and /healthz, with one request. It returns the health answer,
// or nil when the server could not be reached at all.
func (d *doctor) checkTransport(ctx context.Context) *answer {
	host := d.base.Hostname()
	if d.base.Scheme == "http" {
		if isLoopbackHost(host) {
			d.add(Finding{Check: "tls", Status: StatusOK, Seen: "plain http on the loopback address " + host + " (local testing only)",
				Expected: "https, or http on loopback"})
		} else {
			// Browsers drop the Secure login cookie on plain http, and the
			// IdP posts assertions (bearer credentials) to the ACS in clear.
			d.add(Finding{Check: "tls", Status: StatusFail, Seen: "plain http to " + host,
				Expected: "an https:// base URL (http is only for loopback)",
				Fix: "serve samlflex over https (the stack's API Gateway URL or a custom domain, or a TLS proxy in front of " +
					"serve), set the base URL to that https:// URL, and update the Entity Id and ACS URL in Salesforce"})
		}
	}
	a, err := d.get(ctx, d.path(samlflex.PathHealthz))
	if err != nil {
		if d.base.Scheme == "https" {
			d.add(tlsFailure(host, err))
		}
		d.add(Finding{Check: "healthz", Status: StatusFail, Seen: "no answer: " + err.Error(), Expected: "HTTP 200 \"ok\"",
			Fix: "check that the base URL is the deployment's (the stack output BaseUrl, or serve's --base-url) and that it is reachable from here"})
		return nil
	}
	if d.base.Scheme == "https" {
		d.add(d.tlsFinding(host, a))
	}
	if a.resp.StatusCode != http.StatusOK || strings.TrimSpace(string(a.body)) != "ok" {
		f := Finding{Check: "healthz", Status: StatusFail, Seen: fmt.Sprintf("HTTP %d %s", a.resp.StatusCode, snippet(a.body)),
			Expected: "HTTP 200 \"ok\""}
		switch {
		case a.resp.StatusCode == http.StatusNotFound || a.resp.StatusCode == http.StatusForbidden:
			f.Fix = "the base URL does not reach samlflex's routes: check the host and path prefix against the stack output BaseUrl"
		default:
			f.Fix = "read the server's logs (the metadata function's log group, or serve's stdout)" + requestIDHint(a.resp)
		}
		d.add(f)
	} else {
		d.add(Finding{Check: "healthz", Status: StatusOK, Seen: "HTTP 200 \"ok\"", Expected: "HTTP 200 \"ok\""})
	}
	return a
}

// requestIDHint names the X-Request-Id of an answer, to find it in logs.
func requestIDHint(r *http.Response) string {
	if id := r.Header.Get("X-Request-Id"); id != "" {
		return " for request_id " + id
	}
	return ""
}

// tlsFailure explains a failed https request. The certificate errors are
// the ones an admin can fix; anything else is a connection problem.
func tlsFailure(host string, err error) Finding {
	f := Finding{Check: "tls", Status: StatusFail, Expected: "a certificate for " + host + " that chains to a trusted CA and is valid now"}
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostErr):
		f.Seen = "the certificate does not cover " + host + ": " + certNames(hostErr.Certificate)
		f.Fix = "attach a certificate for " + host + " to the custom domain (ACM, same region as the API), or use the host the certificate names as the base URL"
	case errors.As(err, &authErr):
		f.Seen = "the certificate is not signed by a trusted CA (self-signed or private CA)"
		f.Fix = "use a publicly trusted certificate (ACM): Salesforce and agents' browsers refuse this one"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		f.Seen = "the certificate has expired or is not yet valid: " + invalid.Error()
		f.Fix = "renew the certificate (ACM renews DNS-validated certificates itself if the validation CNAME is still in place)"
	default:
		f.Seen = "no TLS connection: " + err.Error()
		f.Fix = "check DNS for " + host + " and that the API (or the TLS proxy) listens on port 443"
	}
	return f
}

// tlsFinding reports a verified connection's certificate.
func (d *doctor) tlsFinding(host string, a *answer) Finding {
	f := Finding{Check: "tls", Expected: "a certificate for " + host + " valid for more than " + days(certWarn)}
	if a.resp.TLS == nil || len(a.resp.TLS.PeerCertificates) == 0 {
		f.Status, f.Seen = StatusFail, "an https URL answered without TLS (a proxy or transport in between?)"
		f.Fix = "reach the deployment directly over https"
		return f
	}
	leaf := a.resp.TLS.PeerCertificates[0]
	left := leaf.NotAfter.Sub(d.now())
	f.Seen = fmt.Sprintf("certificate for %s (%s), issued by %s, expires %s (%s)", host, certNames(leaf),
		leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.DateOnly), relative(left))
	switch {
	case left <= 0:
		f.Status, f.Fix = StatusFail, "renew the certificate now"
	case left < certWarn:
		f.Status = StatusWarn
		f.Fix = "renew the certificate (ACM renews DNS-validated certificates itself if the validation CNAME is still in place; check its renewal status)"
	default:
		f.Status = StatusOK
	}
	return f
}

// certNames lists the names a certificate covers.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "no certificate"
	}
	if len(c.DNSNames) == 0 {
		return "no DNS names, CN " + c.Subject.CommonName
	}
	return "names " + strings.Join(c.DNSNames, ", ")
}
