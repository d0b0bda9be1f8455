package samlflex

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Go-signed variants of the golden response, for shapes that depend on a
// parameter (hundreds of attributes) and so do not fit xmlsec1 templates.
// The golden files stay the reference for everything else: they are signed
// by xmlsec1, independent of the library under test.

var templateSignature = regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>|<ds:Signature xmlns:ds="[^"]*">.*?</ds:Signature>`)

// unsignedTemplate is templates/<name>.xml without its signature templates.
func unsignedTemplate(t testing.TB, name string) string {
	t.Helper()
	return templateSignature.ReplaceAllString(string(readTestdata(t, "templates/"+name)), "")
}

// salesforceAttributes renders n custom attributes the way Salesforce does:
// xs and xsi declared on every AttributeValue.
func salesforceAttributes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<saml:Attribute Name="custom_%d" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">`+
			`<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:anyType">value %d</saml:AttributeValue></saml:Attribute>`, i, i)
	}
	return b.String()
}

// withExtraAttributes inserts extra into the response's AttributeStatement.
func withExtraAttributes(doc, extra string) string {
	return strings.Replace(doc, "</saml:AttributeStatement>", extra+"</saml:AttributeStatement>", 1)
}

// goSign signs doc (an unsigned response) with keys/<key>.key: the
// Assertion first when assertion is true, then the Response when response
// is true. Signatures are enveloped, exclusive c14n, RSA-SHA256, placed
// right after the Issuer as Salesforce does.
func goSign(t testing.TB, doc, key string, assertion, response bool) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(doc); err != nil {
		t.Fatal(err)
	}
	sign := func(el *etree.Element) *etree.Element {
		block, _ := pem.Decode(readTestdata(t, "keys/"+key+".key"))
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		cblock, _ := pem.Decode(readTestdata(t, "keys/"+key+".crt"))
		ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{cblock.Bytes}, PrivateKey: priv}))
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
		if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
			t.Fatal(err)
		}
		signed, err := ctx.SignEnveloped(el)
		if err != nil {
			t.Fatal(err)
		}
		last := len(signed.Child) - 1
		sig := signed.Child[last].(*etree.Element)
		signed.RemoveChildAt(last)
		for i, c := range signed.Child {
			if e, ok := c.(*etree.Element); ok && e.Tag == "Issuer" {
				signed.InsertChildAt(i+1, sig)
				return signed
			}
		}
		t.Fatal("no Issuer")
		return nil
	}
	root := d.Root()
	if assertion {
		a := root.SelectElement("Assertion")
		i := a.Index()
		root.RemoveChildAt(i)
		root.InsertChildAt(i, sign(a))
	}
	if response {
		d.SetRoot(sign(root))
	}
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countElements counts the start tags of doc.
func countElements(t testing.TB, doc []byte) int {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		n++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(d.Root())
	return n
}

// replaceEach returns doc with each old text of edits (old, new, old,
// new, ...) replaced once by the new text that follows it; every old text
// must be there.
func replaceEach(t testing.TB, doc string, edits ...string) string {
	t.Helper()
	for i := 0; i < len(edits); i += 2 {
		if !strings.Contains(doc, edits[i]) {
			t.Fatalf("the document lacks %q", edits[i])
		}
		doc = strings.Replace(doc, edits[i], edits[i+1], 1)
	}
	return doc
}
