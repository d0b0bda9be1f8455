package samlidp

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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

type page struct {
	status int
	body   string
	forms  []form
	ids    map[string]bool // every element id on the page
}

type form struct {
	action, method, id string
	inputs             url.Values // name -> value of every <input> with a name
}

func fetch(t *testing.T, method, rawURL string, body url.Values) page {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := page{status: resp.StatusCode, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.forms, p.ids = parseHTML(t, p.body)
	}
	return p
}

// parseHTML reads forms the way a browser submits them, with the standard
// library's XML decoder in its lenient HTML mode (no x/net/html in go.mod).
func parseHTML(t *testing.T, body string) ([]form, map[string]bool) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var forms []form
	ids := map[string]bool{}
	inForm := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse HTML: %v\n%s", err, body)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range el.Attr {
					if strings.EqualFold(a.Name.Local, name) {
						return a.Value
					}
				}
				return ""
			}
			if id := attr("id"); id != "" {
				ids[id] = true
			}
			switch strings.ToLower(el.Name.Local) {
			case "form":
				inForm = true
				forms = append(forms, form{action: attr("action"), method: attr("method"), id: attr("id"), inputs: url.Values{}})
			case "input":
				if inForm && attr("name") != "" {
					forms[len(forms)-1].inputs.Set(attr("name"), attr("value"))
				}
			}
		case xml.EndElement:
			if strings.EqualFold(el.Name.Local, "form") {
				inForm = false
			}
		}
	}
	return forms, ids
}

func onlyForm(t *testing.T, p page) form {
	t.Helper()
	if len(p.forms) != 1 {
		t.Fatalf("page has %d forms, want 1:\n%s", len(p.forms), p.body)
	}
	return p.forms[0]
}

// submit posts f as a browser would, with fields overridden by set.
func submit(t *testing.T, base string, f form, set map[string]string) page {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	action, err := target.Parse(f.action)
	if err != nil {
		t.Fatal(err)
	}
	values := url.Values{}
	for k, v := range f.inputs {
		values[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		values.Set(k, v)
	}
	return fetch(t, http.MethodPost, action.String(), values)
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
