package demo

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAML constants (SAML core 2.x and 3.2.2.2).
const (
	nsProtocol   = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion  = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXS         = "http://www.w3.org/2001/XMLSchema"
	nsXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	statusOK     = "urn:oasis:names:tc:SAML:2.0:status:Success"
	fmtEntity    = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	fmtUnspec    = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	attrUnspec   = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
	cmBearer     = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	acPassword   = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	samlTimeForm = "2006-01-02T15:04:05.000Z"
)

// Validity of a response: Salesforce back-dates NotBefore by about 30
// seconds and gives the assertion five minutes.
const (
	backdate = 30 * time.Second
	validFor = 5 * time.Minute
)

// responseParams is one response to build. Every address comes from the
// IdP's configuration, never from the request.
type responseParams struct {
	Issuer       string
	Destination  string // the ACS URL: Destination and Recipient
	Audience     string // the SP entity ID
	InResponseTo string // "" for an IdP-initiated login
	User         User
	Now          time.Time
	Key          *IdPKey
	Rand         io.Reader
}

// buildSignedResponse returns the XML of a Salesforce-shaped Response:
// signed on the Response (Salesforce's default) with RSA-SHA256 and
// exclusive c14n, the Signature placed right after the Response's Issuer,
// which is where Salesforce puts it and where the schema wants it
// (SAML core 3.2.2: Issuer, Signature, Extensions, Status).
func buildSignedResponse(p responseParams) ([]byte, error) {
	if p.Key == nil || p.Key.Key == nil || p.Key.Certificate == nil {
		return nil, errors.New("demo: no IdP key")
	}
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	respID, err := newID(rnd)
	if err != nil {
		return nil, err
	}
	assertionID, err := newID(rnd)
	if err != nil {
		return nil, err
	}
	now := p.Now.UTC()
	issueInstant := now.Format(samlTimeForm)
	notBefore := now.Add(-backdate).Format(samlTimeForm)
	notOnOrAfter := now.Add(validFor).Format(samlTimeForm)

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("Destination", p.Destination)
	resp.CreateAttr("ID", respID)
	if p.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", p.InResponseTo)
	}
	resp.CreateAttr("IssueInstant", issueInstant)
	resp.CreateAttr("Version", "2.0")

	iss := resp.CreateElement("saml:Issuer")
	iss.CreateAttr("xmlns:saml", nsAssertion)
	iss.CreateAttr("Format", fmtEntity)
	iss.SetText(p.Issuer)

	st := resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode")
	st.CreateAttr("Value", statusOK)

	a := resp.CreateElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("ID", assertionID)
	a.CreateAttr("IssueInstant", issueInstant)
	a.CreateAttr("Version", "2.0")
	ai := a.CreateElement("saml:Issuer")
	ai.CreateAttr("Format", fmtEntity)
	ai.SetText(p.Issuer)

	subj := a.CreateElement("saml:Subject")
	nameID := subj.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", fmtUnspec)
	nameID.SetText(p.User.Username)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", cmBearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if p.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", p.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", notOnOrAfter)
	scd.CreateAttr("Recipient", p.Destination)

	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", notBefore)
	cond.CreateAttr("NotOnOrAfter", notOnOrAfter)
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(p.Audience)

	authn := a.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", issueInstant)
	authn.CreateAttr("SessionIndex", assertionID)
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(acPassword)

	attrs := a.CreateElement("saml:AttributeStatement")
	for _, kv := range [][2]string{
		{"full_name", p.User.FullName},
		{"roles", p.User.RolesValue()},
		{"email", p.User.Email},
	} {
		at := attrs.CreateElement("saml:Attribute")
		at.CreateAttr("Name", kv[0])
		at.CreateAttr("NameFormat", attrUnspec)
		v := at.CreateElement("saml:AttributeValue")
		// Salesforce declares xs/xsi on each value and types it anyType.
		v.CreateAttr("xmlns:xs", nsXS)
		v.CreateAttr("xmlns:xsi", nsXSI)
		v.CreateAttr("xsi:type", "xs:anyType")
		v.SetText(kv[1])
	}

	signed, err := signEnvelopedAfterIssuer(resp, p.Key)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(signed)
	return doc.WriteToBytes()
}

// signEnvelopedAfterIssuer signs el with an enveloped signature and moves
// the Signature from the end (where goxmldsig appends it) to just after the
// Issuer. Moving it is safe: the enveloped-signature transform removes the
// Signature wherever it sits before the digest is computed.
func signEnvelopedAfterIssuer(el *etree.Element, key *IdPKey) (*etree.Element, error) {
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{key.Certificate.Raw}, PrivateKey: key.Key})
	ctx := dsig.NewDefaultSigningContext(ks)
	// Exclusive c14n, as Salesforce signs; goxmldsig defaults to c14n 1.1.
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("demo: signature method: %w", err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		return nil, fmt.Errorf("demo: sign response: %w", err)
	}
	last := len(signed.Child) - 1
	sig, ok := signed.Child[last].(*etree.Element)
	if !ok || sig.Tag != "Signature" {
		return nil, errors.New("demo: signer did not append a Signature")
	}
	signed.RemoveChildAt(last)
	for i, c := range signed.Child {
		if e, ok := c.(*etree.Element); ok && e.Tag == "Issuer" {
			signed.InsertChildAt(i+1, sig)
			return signed, nil
		}
	}
	return nil, errors.New("demo: response has no Issuer")
}

// newID returns a SAML ID: xs:ID values must not start with a digit.
func newID(rnd io.Reader) (string, error) {
	var b [20]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("demo: random ID: %w", err)
	}
	return "_demo" + hex.EncodeToString(b[:]), nil
}
