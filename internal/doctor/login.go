package doctor

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	// maxAuthnRequest caps the inflated request: ours is under 1 KiB, and
	// a cap keeps a hostile answer from being a decompression bomb.
	maxAuthnRequest = 64 << 10
)

// authnRequest is the part of an AuthnRequest (SAML core 3.4.1) doctor
// reads.
type authnRequest struct {
	XMLName         xml.Name
	ID              string `xml:"ID,attr"`
	Version         string `xml:"Version,attr"`
	IssueInstant    string `xml:"IssueInstant,attr"`
	Destination     string `xml:"Destination,attr"`
	ProtocolBinding string `xml:"ProtocolBinding,attr"`
	ACSURL          string `xml:"AssertionConsumerServiceURL,attr"`
	Issuer          struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:"Issuer"`
}

// loginResult is what the JWKS check uses: the kid the login cookie was
// sealed with, which is the current SP key's.
type loginResult struct {
	cookieKid string
}

// checkLogin opens the account's login link as a browser would, without
// following the redirect, and checks where it goes, the AuthnRequest it
// carries and the login cookie it sets.
func (d *doctor) checkLogin(ctx context.Context, md *metadataResult) *loginResult {
	if d.cfg.AccountSID == "" {
		d.skip("login", "no --account-sid: the login link is per account")
		return nil
	}
	f := Finding{Check: "login", Expected: "HTTP 302 from " + d.urls.Login + " to the IdP with a SAMLRequest"}
	a, err := d.get(ctx, d.urls.Login)
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, "no answer: "+err.Error(), "see the tls and healthz findings"
		d.add(f)
		return nil
	}
	loc := a.resp.Header.Get("Location")
	if (a.resp.StatusCode != http.StatusFound && a.resp.StatusCode != http.StatusSeeOther) || loc == "" {
		f.Status, f.Seen = StatusFail, fmt.Sprintf("HTTP %d %s", a.resp.StatusCode, errorCode(a.resp))
		f.Fix = fixForError(a.resp, d.cfg.AccountSID)
		d.add(f)
		return nil
	}
	target, err := url.Parse(loc)
	if err != nil || target.Host == "" {
		f.Status, f.Seen, f.Fix = StatusFail, fmt.Sprintf("Location %q is not an absolute URL", loc),
			"set the account's IdP SSO URL to Salesforce's HTTP-Redirect endpoint (samlflex account put --idp-sso-url)"
		d.add(f)
		return nil
	}
	f.Status, f.Seen = StatusOK, fmt.Sprintf("HTTP %d to %s", a.resp.StatusCode, withoutQuery(target))
	d.add(f)

	d.add(d.idpFinding(target))
	d.checkAuthnRequest(target, a)
	d.add(signatureFinding(target.RawQuery, md))
	return &loginResult{cookieKid: d.checkCookie(a.resp)}
}

func withoutQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	return c.String()
}

// idpFinding checks where the login link sends agents.
func (d *doctor) idpFinding(target *url.URL) Finding {
	seen := withoutQuery(target)
	f := Finding{Check: "login.idp", Seen: seen, Expected: "an https IdP SSO URL"}
	fixURL := "set the account's IdP SSO URL to the connected app's \"SP-Initiated Redirect Endpoint\" (samlflex account put --account-sid " +
		d.cfg.AccountSID + " --idp-sso-url ...)"
	if d.cfg.IdPSSOURL != "" {
		want, _ := url.Parse(d.cfg.IdPSSOURL)
		f.Expected = withoutQuery(want)
		if seen != f.Expected {
			f.Status, f.Fix = StatusFail, fixURL
			return f
		}
	}
	switch {
	case target.Scheme != "https" && !isLoopbackHost(target.Hostname()):
		f.Status, f.Fix = StatusFail, "the IdP is reached over plain http: "+fixURL
	case d.cfg.IdPSSOURL == "":
		f.Status, f.Seen = StatusOK, seen+" (give --idp-sso-url to check it is the right IdP)"
	default:
		f.Status = StatusOK
	}
	return f
}

// checkAuthnRequest decodes the HTTP-Redirect binding (SAML bindings
// 3.4.4.1: base64 of raw DEFLATE) and checks what Salesforce will check.
func (d *doctor) checkAuthnRequest(target *url.URL, a *answer) {
	f := Finding{Check: "login.authn_request", Expected: "a SAMLRequest query parameter: base64 of DEFLATE of a SAML 2.0 AuthnRequest"}
	const fixBug = "the login link builds a broken request: report this as a samlflex bug, with the Location header"
	raw := target.Query().Get("SAMLRequest")
	if raw == "" {
		f.Status, f.Seen, f.Fix = StatusFail, "no SAMLRequest parameter", fixBug
		d.add(f)
		return
	}
	req, err := decodeAuthnRequest(raw)
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, err.Error(), fixBug
		d.add(f)
		return
	}
	var problems []string
	if req.XMLName.Space != nsProtocol || req.XMLName.Local != "AuthnRequest" {
		problems = append(problems, fmt.Sprintf("root element {%s}%s", req.XMLName.Space, req.XMLName.Local))
	}
	if req.Version != "2.0" {
		problems = append(problems, fmt.Sprintf("Version %q", req.Version))
	}
	if req.ID == "" || strings.ContainsAny(req.ID[:1], "0123456789-.") {
		problems = append(problems, fmt.Sprintf("ID %q is not an xs:ID", req.ID))
	}
	// Salesforce compares Destination with its endpoint (SAML core 3.2.1).
	if req.Destination != "" && req.Destination != withoutQuery(target) {
		problems = append(problems, fmt.Sprintf("Destination %q is not the redirect target", req.Destination))
	}
	if req.ProtocolBinding != "" && req.ProtocolBinding != bindingPOST {
		problems = append(problems, fmt.Sprintf("ProtocolBinding %q", req.ProtocolBinding))
	}
	if len(problems) > 0 {
		f.Status, f.Seen, f.Fix = StatusFail, strings.Join(problems, "; "), fixBug
	} else {
		signed := "unsigned"
		if alg := target.Query().Get("SigAlg"); alg != "" {
			signed = "signed with " + alg
		}
		f.Status, f.Seen = StatusOK, fmt.Sprintf("AuthnRequest %s, %s", req.ID, signed)
	}
	d.add(f)

	d.add(d.identifierFinding("login.acs_url", "AssertionConsumerServiceURL", req.ACSURL, d.urls.ACS))
	issuer := req.Issuer.Value
	if req.Issuer.XMLName.Space != nsAssertion {
		issuer = ""
	}
	d.add(d.identifierFinding("login.issuer", "saml:Issuer", strings.TrimSpace(issuer), d.urls.EntityID))

	const check = "clock.saml"
	t, err := time.Parse(time.RFC3339Nano, req.IssueInstant)
	if err != nil {
		d.add(Finding{Check: check, Status: StatusFail, Seen: fmt.Sprintf("IssueInstant %q does not parse", req.IssueInstant),
			Expected: "an xs:dateTime in UTC", Fix: fixBug})
		return
	}
	// IssueInstant has millisecond resolution.
	d.add(skewFinding(check, "the server's SAML clock (AuthnRequest IssueInstant)", skew(t, a.sent, a.arrived, time.Millisecond)))
}

func decodeAuthnRequest(raw string) (*authnRequest, error) {
	z, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("SAMLRequest is not base64: %v", err)
	}
	x, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), maxAuthnRequest+1))
	if err != nil {
		return nil, fmt.Errorf("SAMLRequest does not inflate (raw DEFLATE): %v", err)
	}
	if len(x) > maxAuthnRequest {
		return nil, fmt.Errorf("SAMLRequest inflates to over %d bytes", maxAuthnRequest)
	}
	var req authnRequest
	if err := xml.Unmarshal(x, &req); err != nil {
		return nil, fmt.Errorf("SAMLRequest is not XML: %v", err)
	}
	return &req, nil
}
