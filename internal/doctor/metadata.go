package doctor

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

const (
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	bindingPOST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// mdDoc is the part of SP metadata (SAML metadata 2.4.4) that doctor reads.
type mdDoc struct {
	XMLName    xml.Name
	EntityID   string `xml:"entityID,attr"`
	ValidUntil string `xml:"validUntil,attr"`
	SP         struct {
		Signed string `xml:"AuthnRequestsSigned,attr"`
		Keys   []struct {
			Use  string `xml:"use,attr"`
			Cert string `xml:"KeyInfo>X509Data>X509Certificate"`
		} `xml:"KeyDescriptor"`
		ACS []struct {
			Binding  string `xml:"Binding,attr"`
			Location string `xml:"Location,attr"`
		} `xml:"AssertionConsumerService"`
	} `xml:"SPSSODescriptor"`
}

// metadataResult is what later checks use: the SP certificates.
type metadataResult struct {
	certs               []*x509.Certificate
	authnRequestsSigned bool
}

// checkMetadata fetches the account's SP metadata (the URL the setup guide
// has admins give Salesforce) and checks its identifiers and certificates.
func (d *doctor) checkMetadata(ctx context.Context) *metadataResult {
	if d.cfg.AccountSID == "" {
		d.skip("metadata", "no --account-sid: metadata is per account")
		return nil
	}
	f := Finding{Check: "metadata", Expected: "HTTP 200 with SP metadata (md:EntityDescriptor) at " + d.urls.Metadata}
	a, err := d.get(ctx, d.urls.Metadata)
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, "no answer: "+err.Error(), "see the tls and healthz findings"
		d.add(f)
		return nil
	}
	if a.resp.StatusCode != http.StatusOK {
		f.Status, f.Seen = StatusFail, fmt.Sprintf("HTTP %d %s", a.resp.StatusCode, errorCode(a.resp))
		f.Fix = fixForError(a.resp, d.cfg.AccountSID)
		d.add(f)
		return nil
	}
	var md mdDoc
	if err := xml.Unmarshal(a.body, &md); err != nil || md.XMLName.Space != nsMetadata || md.XMLName.Local != "EntityDescriptor" {
		f.Status, f.Seen = StatusFail, "the answer is not SAML metadata: "+snippet(a.body)
		f.Fix = "the URL reaches something else than samlflex: check the base URL and its path prefix"
		d.add(f)
		return nil
	}
	f.Status, f.Seen = StatusOK, fmt.Sprintf("HTTP 200, %d bytes of SP metadata", len(a.body))
	d.add(f)

	d.add(d.identifierFinding("metadata.entity_id", "entity ID", md.EntityID, d.urls.EntityID))
	acs := ""
	for _, s := range md.SP.ACS {
		if s.Binding == bindingPOST {
			acs = s.Location
			break
		}
	}
	d.add(d.identifierFinding("metadata.acs_url", "HTTP-POST ACS URL", acs, d.urls.ACS))
	d.add(d.validUntilFinding(md.ValidUntil))

	res := &metadataResult{authnRequestsSigned: md.SP.Signed == "true" || md.SP.Signed == "1"}
	for i, k := range md.SP.Keys {
		check := fmt.Sprintf("metadata.certificate[%d]", i)
		c, f := d.spCertFinding(check, k.Cert)
		if k.Use != "" && k.Use != "signing" {
			f.Seen += fmt.Sprintf(" (use=%q)", k.Use)
		}
		d.add(f)
		if c != nil {
			res.certs = append(res.certs, c)
		}
	}
	if len(md.SP.Keys) == 0 {
		d.add(Finding{Check: "metadata.certificate", Status: StatusFail, Seen: "no KeyDescriptor",
			Expected: "the SP signing certificate (current, and the next one during a rotation)",
			Fix:      "the key set is empty or unreadable: check the key secret (or DIR/sp-keys.json) and the rotate function's logs"})
	}
	return res
}

// identifierFinding compares an SP identifier with the one the base URL
// and account SID give. A mismatch almost always means the deployment's
// base URL is not the one the admin uses (custom domain added later,
// trailing path, http vs https).
func (d *doctor) identifierFinding(check, what, seen, want string) Finding {
	f := Finding{Check: check, Seen: seen, Expected: want}
	switch {
	case seen == want:
		f.Status = StatusOK
	case seen == "":
		f.Status, f.Seen = StatusFail, "no "+what
		f.Fix = "the metadata lacks the " + what + ": is this samlflex?"
	default:
		f.Status = StatusFail
		server := serverBase(seen, d.cfg.AccountSID)
		f.Fix = fmt.Sprintf("the server derives its URLs from base URL %s, not %s: set the deployment's base URL "+
			"(the stack's baseUrl context / SAMLFLEX_BASE_URL, or serve --base-url) to the URL agents and Salesforce use, "+
			"redeploy, and make the connected app's Entity Id and ACS URL match (samlflex account get prints them)", server, d.base)
	}
	return f
}

// serverBase recovers the base URL a server used from one of its URLs.
func serverBase(u, sid string) string {
	if i := strings.Index(u, samlflex.ACSPath(sid)); i > 0 {
		return u[:i]
	}
	return "(unknown: " + u + ")"
}

func (d *doctor) validUntilFinding(v string) Finding {
	f := Finding{Check: "metadata.valid_until", Expected: "absent or in the future"}
	if v == "" {
		f.Status, f.Seen = StatusOK, "no validUntil"
		return f
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, fmt.Sprintf("validUntil %q does not parse", v), "IdPs that read metadata refuse it: report this as a samlflex bug"
		return f
	}
	left := t.Sub(d.now())
	f.Seen = fmt.Sprintf("validUntil %s (%s)", t.UTC().Format(time.RFC3339), relative(left))
	if left <= 0 {
		f.Status = StatusFail
		f.Fix = "an IdP that reads metadata ignores an expired copy: the earliest SP certificate has expired, rotate the keys (see the certificate findings)"
	} else {
		f.Status = StatusOK
	}
	return f
}

// spCertFinding parses one published SP certificate and grades its
// validity. Salesforce verifies signed AuthnRequests with it and an IdP
// that reads metadata refuses an expired one.
func (d *doctor) spCertFinding(check, b64 string) (*x509.Certificate, Finding) {
	f := Finding{Check: check, Expected: "an X.509 certificate valid now and for more than " + days(certWarn)}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, "not base64", "the key set holds a damaged certificate: check the key secret"
		return nil, f
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, "does not parse: "+err.Error(), "the key set holds a damaged certificate: check the key secret"
		return nil, f
	}
	now := d.now()
	left := c.NotAfter.Sub(now)
	f.Seen = fmt.Sprintf("CN %q, valid %s to %s (%s)", c.Subject.CommonName,
		c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly), expiry(left))
	const rotateFix = "rotate the SP keys (aws secretsmanager rotate-secret --secret-id <KeysSecretArn>, or a new " +
		"DIR/sp-keys.json for serve) and check why the scheduled rotation did not run"
	switch {
	case now.Before(c.NotBefore):
		f.Status, f.Fix = StatusFail, "the certificate is not valid yet: check the clock of whatever generated it"
	case left <= 0:
		f.Status, f.Fix = StatusFail, "the certificate has expired: "+rotateFix
	case left < certWarn:
		f.Status, f.Fix = StatusWarn, "the certificate expires soon: "+rotateFix
	default:
		f.Status = StatusOK
	}
	return c, f
}

// errorCode names samlflex's error code of an error answer, if any.
func errorCode(r *http.Response) string {
	if c := r.Header.Get("X-Samlflex-Error"); c != "" {
		return "(" + c + ")"
	}
	return ""
}

// fixForError suggests a fix for samlflex's error answers.
func fixForError(r *http.Response, sid string) string {
	switch r.Header.Get("X-Samlflex-Error") {
	case "unknown_account":
		return "no account " + sid + " on this deployment: create it with samlflex account put --account-sid " + sid + " (with --dynamodb-table for AWS)"
	case "keys_unavailable":
		return "the SP key set is not readable yet: on AWS the first rotation seeds it at deploy; check the rotate function's logs and the key secret"
	case "":
		return "this is not samlflex answering (no X-Samlflex-Error header): check the base URL and the API's routes"
	default:
		return "read the server's logs" + requestIDHint(r)
	}
}
