package samlflex

import (
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/russellhaering/gosaml2/types"
)

// IdP metadata import: the three IdP settings of an account (signing
// certificates, issuer, SSO URL) read from the IdP's SAML 2.0 metadata
// (Salesforce: Setup, Identity Provider, Download Metadata) instead of
// being copied by hand. The document is parsed with gosaml2's metadata
// types; this file adds what they leave to the caller: bounds, DTD refusal,
// the choice of one IdP entity, validUntil, and which key and endpoint
// samlflex can use.
//
// The metadata's own XML signature is not checked: trust comes from where
// the admin got the document (a file they downloaded, or an https URL).

// The SAML 2.0 metadata namespace (the bindings are authnrequest.go's).
const (
	mdNamespace          = "urn:oasis:names:tc:SAML:2.0:metadata"
	keyUseSigning        = "signing"
	maxMetadataEntityIDs = 10 // listed in an error; the rest are counted
)

// MaxIdPMetadataBytes caps an IdP metadata document. One IdP's metadata is
// a few KB (the fixtures: 3 to 7 KB); a single entity with logos inlined
// stays well below a megabyte. Federation aggregates (tens of megabytes) are
// refused: save the IdP's own EntityDescriptor instead.
const MaxIdPMetadataBytes = 1 << 20

// IdPMetadata is what samlflex takes from an IdP's metadata.
type IdPMetadata struct {
	// EntityID is the IdP's entityID: the Issuer of its responses, for
	// Account.IdPIssuer.
	EntityID string
	// SSOURL is the Location of the first SingleSignOnService with the
	// HTTP-Redirect binding (metadata order is preference order), for
	// Account.IdPSSOURL: samlflex sends its AuthnRequest that way.
	SSOURL string
	// Certificates are the signing certificates (KeyDescriptor use
	// "signing" or no use), as canonical PEM like Account.IdPCertificates,
	// in document order without duplicates. All are returned so that a
	// certificate rollover published in the metadata keeps working.
	Certificates []string
	// ValidUntil is the earliest validUntil of the entity and the
	// EntitiesDescriptors around it; zero when the metadata sets none.
	ValidUntil time.Time
	// Notes are things an admin should read that did not stop the import
	// (an expired certificate left out). They quote no secret.
	Notes []string
}

// Apply copies the imported settings into acct: the certificate list is
// replaced, not merged, so that a certificate the IdP no longer publishes
// stops being trusted.
func (m IdPMetadata) Apply(acct *Account) {
	acct.IdPCertificates = slices.Clone(m.Certificates)
	acct.IdPIssuer = m.EntityID
	acct.IdPSSOURL = m.SSOURL
}

// entitiesDescriptor is the one metadata element gosaml2 has no type for:
// a group of entities, possibly nested, with a validUntil for all of them.
type entitiesDescriptor struct {
	XMLName    xml.Name                 `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntitiesDescriptor"`
	ValidUntil time.Time                `xml:"validUntil,attr"`
	Entities   []types.EntityDescriptor `xml:"EntityDescriptor"`
	Groups     []entitiesDescriptor     `xml:"EntitiesDescriptor"`
}

// candidate is one IdP entity with the validUntil that applies to it.
type candidate struct {
	entity     types.EntityDescriptor
	validUntil time.Time
}

// ParseIdPMetadata reads the IdP settings from a SAML 2.0 metadata document
// (an EntityDescriptor, or an EntitiesDescriptor holding IdP entities).
// entityID chooses one IdP when the document describes several; "" accepts
// a document with exactly one. now checks validUntil and certificate
// expiry (zero means time.Now).
//
// It fails closed with an *Error (CodeInvalidConfig, or
// CodeCertificateExpired when every signing certificate has expired) whose
// Public sentence names the problem without quoting the document, and whose
// detail names the values (entityIDs, bindings, dates) for the admin.
func ParseIdPMetadata(raw []byte, now time.Time, entityID string) (IdPMetadata, error) {
	if now.IsZero() {
		now = time.Now()
	}
	root, err := scanMetadata(raw)
	if err != nil {
		return IdPMetadata{}, err
	}
	var all []candidate
	switch root {
	case "EntityDescriptor":
		var ed types.EntityDescriptor
		if err := xml.Unmarshal(raw, &ed); err != nil {
			return IdPMetadata{}, unmarshalError(err)
		}
		all = []candidate{{entity: ed, validUntil: ed.ValidUntil}}
	case "EntitiesDescriptor":
		var group entitiesDescriptor
		if err := xml.Unmarshal(raw, &group); err != nil {
			return IdPMetadata{}, unmarshalError(err)
		}
		all = flatten(group, time.Time{}, nil)
	}
	c, err := chooseEntity(all, strings.TrimSpace(entityID))
	if err != nil {
		return IdPMetadata{}, err
	}
	return readEntity(c, now)
}

// flatten lists the entities of a group, then those of its subgroups,
// each with the earliest validUntil of the groups around it.
func flatten(g entitiesDescriptor, outer time.Time, out []candidate) []candidate {
	until := earliest(outer, g.ValidUntil)
	for _, e := range g.Entities {
		out = append(out, candidate{entity: e, validUntil: earliest(until, e.ValidUntil)})
	}
	for _, sub := range g.Groups {
		out = flatten(sub, until, out)
	}
	return out
}

// earliest returns the earlier of two validUntil values, zero meaning unset.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	default:
		return b
	}
}

// chooseEntity picks the IdP entity: the one named, or the only one. A
// document with several IdPs and no choice is refused rather than guessed:
// trusting the wrong IdP's certificate would let its users into Flex.
func chooseEntity(all []candidate, entityID string) (candidate, error) {
	// One entityID names one entity: with two, which one's keys to trust
	// would be the order of the file, not the admin's choice.
	ids := map[string]bool{}
	for _, c := range all {
		if ids[c.entity.EntityID] {
			return candidate{}, metadataError("The metadata lists the same entityID twice, so samlflex cannot tell which entity's keys to trust. Download the identity provider's own metadata.",
				"entityID %q twice", truncateDetail(c.entity.EntityID))
		}
		ids[c.entity.EntityID] = true
	}
	var idps []candidate
	for _, c := range all {
		if c.entity.IDPSSODescriptor != nil {
			idps = append(idps, c)
		}
	}
	if entityID != "" {
		for _, c := range idps {
			if c.entity.EntityID == entityID {
				return c, nil
			}
		}
		return candidate{}, metadataError("The IdP metadata has no identity provider with the entityID given. Choose one of the entityIDs it lists.",
			"no IdP entity %q; the IdP entityIDs are: %s", entityID, listEntityIDs(idps))
	}
	switch len(idps) {
	case 1:
		return idps[0], nil
	case 0:
		if len(all) == 0 {
			return candidate{}, metadataError("The IdP metadata holds no EntityDescriptor. Download the metadata of the identity provider (Salesforce: Setup, Identity Provider, Download Metadata).",
				"an EntitiesDescriptor without entities")
		}
		return candidate{}, metadataError("The metadata describes no identity provider (no IDPSSODescriptor): it may be a service provider's metadata. Download the metadata of the identity provider (Salesforce: Setup, Identity Provider, Download Metadata).",
			"%d entities, none with an IDPSSODescriptor: %s", len(all), listEntityIDs(all))
	default:
		return candidate{}, metadataError("The IdP metadata describes several identity providers. Choose one by its entityID.",
			"%d IdP entities: %s", len(idps), listEntityIDs(idps))
	}
}

// listEntityIDs names the entities for an error detail, the first few only:
// a federation aggregate within the size cap may hold hundreds.
func listEntityIDs(cs []candidate) string {
	ids := make([]string, 0, min(len(cs), maxMetadataEntityIDs))
	for i, c := range cs {
		if i == maxMetadataEntityIDs {
			ids = append(ids, fmt.Sprintf("and %d more", len(cs)-i))
			break
		}
		ids = append(ids, fmt.Sprintf("%q", truncateDetail(c.entity.EntityID)))
	}
	return strings.Join(ids, ", ")
}

// readEntity takes the settings from the chosen entity.
func readEntity(c candidate, now time.Time) (IdPMetadata, error) {
	e := c.entity
	if !c.validUntil.IsZero() && !now.Before(c.validUntil) {
		return IdPMetadata{}, metadataError("The IdP metadata has expired (its validUntil has passed), so its certificates may no longer be the IdP's. Download the metadata again from the identity provider.",
			"validUntil %s, now %s", c.validUntil.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	m := IdPMetadata{EntityID: strings.TrimSpace(e.EntityID), ValidUntil: c.validUntil}
	if m.EntityID == "" {
		return IdPMetadata{}, metadataError("The IdP metadata has no entityID, which samlflex needs as the IdP issuer.", "empty entityID attribute")
	}
	idp := e.IDPSSODescriptor
	sso, err := redirectSSO(idp.SingleSignOnServices)
	if err != nil {
		return IdPMetadata{}, err
	}
	m.SSOURL = sso
	if err := m.readCertificates(idp.KeyDescriptors, now); err != nil {
		return IdPMetadata{}, err
	}
	return m, nil
}

// redirectSSO returns the first HTTP-Redirect SSO endpoint: samlflex's
// login link sends the AuthnRequest as a redirect (query string), which an
// endpoint for another binding does not read.
func redirectSSO(svcs []types.SingleSignOnService) (string, error) {
	var bindings []string
	for _, s := range svcs {
		if s.Binding != bindingRedirect {
			bindings = append(bindings, s.Binding)
			continue
		}
		loc := strings.TrimSpace(s.Location)
		if msg := checkURL(loc, true); msg != "" {
			return "", metadataError("The IdP metadata's HTTP-Redirect SingleSignOnService has no usable Location: it must be an absolute https:// URL.",
				"Location %q %s", loc, msg)
		}
		return loc, nil
	}
	if len(bindings) > 0 && !slices.ContainsFunc(bindings, func(b string) bool { return b != bindingPOST }) {
		return "", metadataError("The IdP metadata lists only an HTTP-POST SingleSignOnService, and samlflex sends its login request with the HTTP-Redirect binding. Enable the HTTP-Redirect binding at the identity provider, or set the SSO URL by hand.",
			"SingleSignOnService bindings: %s", strings.Join(bindings, ", "))
	}
	return "", metadataError("The IdP metadata has no SingleSignOnService with the HTTP-Redirect binding, which samlflex sends its login request with.",
		"SingleSignOnService bindings: %s", cmpOrNone(strings.Join(bindings, ", ")))
}

func cmpOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// readCertificates collects the signing certificates. A key without a use
// serves both signing and encryption (SAML metadata 2.4.1.1). Expired ones
// are left out with a note when a valid one remains: an IdP keeps the old
// certificate listed for a while after a rollover, and Account.Validate
// refuses expired certificates.
func (m *IdPMetadata) readCertificates(kds []types.KeyDescriptor, now time.Time) error {
	var uses []string
	var expired []string
	seen := map[string]bool{}
	n := 0
	for _, kd := range kds {
		use := strings.TrimSpace(kd.Use)
		if use != "" && use != keyUseSigning {
			uses = append(uses, use)
			continue
		}
		certs := kd.KeyInfo.X509Data.X509Certificates
		if len(certs) == 0 {
			return metadataError("A signing KeyDescriptor in the IdP metadata carries no X509Certificate; samlflex trusts certificates only. Export the metadata with the signing certificate included.",
				"KeyDescriptor use=%q without ds:X509Data/ds:X509Certificate", use)
		}
		for _, x := range certs {
			n++
			cert, err := ParseCertificate(x.Data)
			if err != nil {
				return metadataError("A signing certificate in the IdP metadata cannot be read. Download the metadata again, or save the certificate by hand.",
					"signing certificate %d: %v", n, err)
			}
			if seen[string(cert.Raw)] {
				continue
			}
			seen[string(cert.Raw)] = true
			if now.After(cert.NotAfter) { // NotAfter is inclusive (RFC 5280 4.1.2.5), as in Account.Validate
				expired = append(expired, fmt.Sprintf("signing certificate %d (%s, expired %s)", n, cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.DateOnly)))
				continue
			}
			m.Certificates = append(m.Certificates, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
		}
	}
	switch {
	case n == 0:
		return metadataError("The IdP metadata has no signing key (a KeyDescriptor with use=\"signing\" or without use), so samlflex could not check the IdP's signatures. Export the metadata with the signing certificate included.",
			"KeyDescriptor uses found: %s", cmpOrNone(strings.Join(uses, ", ")))
	case len(m.Certificates) == 0:
		return NewError(CodeCertificateExpired, "Every signing certificate in the IdP metadata has expired. Create a new certificate at the identity provider (Salesforce: Certificate and Key Management, then select it under Identity Provider) and download the metadata again.",
			fmt.Errorf("%s", strings.Join(expired, "; ")))
	}
	for _, e := range expired {
		m.Notes = append(m.Notes, e+": left out; the metadata's other signing certificates are saved")
	}
	return nil
}

// unmarshalError explains a document that passed the scan but does not fit
// gosaml2's types; in practice a validUntil that is not an RFC 3339 UTC
// time (SAML core 1.3.3 requires UTC).
func unmarshalError(err error) *Error {
	var te *time.ParseError
	if errors.As(err, &te) {
		return metadataError("A validUntil in the IdP metadata is not a valid UTC date and time (for example 2030-01-01T00:00:00Z).", "%v", err)
	}
	return metadataError("The IdP metadata does not have the SAML 2.0 metadata shape samlflex reads.", "%v", err)
}

// metadataError builds an invalid_config error with a fixed public sentence
// (never quoting the document) and a detail for the admin.
func metadataError(public, format string, args ...any) *Error {
	d := Errorf(CodeInvalidConfig, format, args...)
	return NewError(CodeInvalidConfig, public, d.Err)
}
