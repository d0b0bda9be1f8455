package samlflex

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"time"
)

// MetadataOptions configure Metadata.
type MetadataOptions struct {
	URLs URLs
	// Certificates are the SP certificates to publish: the current one and,
	// during a rotation period, the next one, so that an IdP that reads
	// metadata learns the next key before it is used.
	Certificates        []*x509.Certificate
	AuthnRequestsSigned bool
	// ValidUntil and CacheDuration tell IdPs how long to trust this copy.
	ValidUntil    time.Time
	CacheDuration time.Duration
}

type mdEntity struct {
	XMLName       xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID      string   `xml:"entityID,attr"`
	ValidUntil    string   `xml:"validUntil,attr,omitempty"`
	CacheDuration string   `xml:"cacheDuration,attr,omitempty"`
	SP            mdSP     `xml:"SPSSODescriptor"`
}

type mdSP struct {
	AuthnRequestsSigned        bool     `xml:"AuthnRequestsSigned,attr"`
	WantAssertionsSigned       bool     `xml:"WantAssertionsSigned,attr"`
	ProtocolSupportEnumeration string   `xml:"protocolSupportEnumeration,attr"`
	Keys                       []mdKey  `xml:"KeyDescriptor"`
	NameIDFormat               []string `xml:"NameIDFormat"`
	ACS                        []mdACS  `xml:"AssertionConsumerService"`
}

type mdKey struct {
	Use     string `xml:"use,attr"`
	KeyInfo struct {
		XMLName xml.Name `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
		X509    struct {
			Cert string `xml:"X509Certificate"`
		} `xml:"X509Data"`
	}
}

type mdACS struct {
	Binding   string `xml:"Binding,attr"`
	Location  string `xml:"Location,attr"`
	Index     int    `xml:"index,attr"`
	IsDefault bool   `xml:"isDefault,attr"`
}

// Metadata renders the SP's SAML metadata (SAML metadata 2.4.4):
// EntityDescriptor with one SPSSODescriptor, the HTTP-POST ACS, the NameID
// format of the setup guide and a signing KeyDescriptor per certificate.
// WantAssertionsSigned is true to steer IdPs that read metadata towards
// signed assertions; a signed Response is accepted as well (Salesforce's
// default).
func Metadata(o MetadataOptions) ([]byte, error) {
	if len(o.Certificates) == 0 {
		return nil, Errorf(CodeKeysUnavailable, "no SP certificate to publish")
	}
	e := mdEntity{EntityID: o.URLs.EntityID}
	if !o.ValidUntil.IsZero() {
		e.ValidUntil = o.ValidUntil.UTC().Format(time.RFC3339)
	}
	if o.CacheDuration > 0 {
		e.CacheDuration = fmt.Sprintf("PT%dS", int64(o.CacheDuration/time.Second))
	}
	e.SP = mdSP{
		AuthnRequestsSigned:        o.AuthnRequestsSigned,
		WantAssertionsSigned:       true,
		ProtocolSupportEnumeration: nsProtocol,
		NameIDFormat:               []string{nameIDUnspecified},
		ACS:                        []mdACS{{Binding: bindingPOST, Location: o.URLs.ACS, Index: 0, IsDefault: true}},
	}
	for _, c := range o.Certificates {
		var k mdKey
		k.Use = "signing"
		k.KeyInfo.X509.Cert = base64.StdEncoding.EncodeToString(c.Raw)
		e.SP.Keys = append(e.SP.Keys, k)
	}
	out, err := xml.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, Errorf(CodeInternal, "metadata: %v", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
