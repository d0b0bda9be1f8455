package samlidp

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// authnRequestXML is a minimal SP AuthnRequest, written by hand on purpose:
// these tests must prove the IdP works without any samlflex code.
func authnRequestXML(id, issuer, acsURL, destination string) string {
	acs := ""
	if acsURL != "" {
		acs = fmt.Sprintf(` AssertionConsumerServiceURL=%q ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`, acsURL)
	}
	return fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID=%q Version="2.0" IssueInstant=%q Destination=%q%s><saml:Issuer>%s</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" AllowCreate="true"/></samlp:AuthnRequest>`,
		id, time.Now().UTC().Format(time.RFC3339), destination, acs, issuer)
}

// deflateBase64 encodes for the HTTP-Redirect binding (SAML bindings
// 3.4.4.1): raw DEFLATE, then base64; the caller URL-encodes.
func deflateBase64(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// testClient is the tests' browser. (Its Transport is http.DefaultTransport.)
var testClient = &http.Client{Timeout: 10 * time.Second}

// fetch is Fetch that fails t when no page comes back.
func fetch(t *testing.T, method, rawURL string, body url.Values) *Page {
	t.Helper()
	p, err := Fetch(t.Context(), testClient, method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func onlyForm(t *testing.T, p *Page) Form {
	t.Helper()
	f, err := p.Form("")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// submit posts f as a browser would, with fields overridden by set.
func submit(t *testing.T, f Form, set map[string]string) *Page {
	t.Helper()
	values := url.Values{}
	for k, v := range set {
		values.Set(k, v)
	}
	p, err := Submit(t.Context(), testClient, f, values)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// verifiedResponse base64-decodes a SAMLResponse and checks its XML
// signature against cert with goxmldsig, returning the element that the
// signature covers (never the unverified input).
func verifiedResponse(t *testing.T, samlResponse string, cert *x509.Certificate) *etree.Element {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	el, err := validate(raw, cert)
	if err != nil {
		t.Fatalf("signature does not verify: %v\n%s", err, raw)
	}
	return el
}

func validate(raw []byte, cert *x509.Certificate) (*etree.Element, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, fmt.Errorf("parse XML: %w", err)
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.Clock = dsig.NewRealClock()
	return ctx.Validate(doc.Root())
}

// attributes returns the AttributeStatement as name -> values.
func attributes(resp *etree.Element) map[string][]string {
	out := map[string][]string{}
	for _, a := range resp.FindElements("./Assertion/AttributeStatement/Attribute") {
		name := a.SelectAttrValue("Name", "")
		for _, v := range a.SelectElements("AttributeValue") {
			out[name] = append(out[name], v.Text())
		}
	}
	return out
}

func text(el *etree.Element, path string) string {
	if found := el.FindElement(path); found != nil {
		return found.Text()
	}
	return ""
}

func attr(el *etree.Element, path, name string) (string, bool) {
	found := el.FindElement(path)
	if found == nil {
		return "", false
	}
	a := found.SelectAttr(name)
	if a == nil {
		return "", false
	}
	return a.Value, true
}
