package samlflex

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMetadataGolden(t *testing.T) {
	t.Parallel()
	urls, _ := URLsFor(testBase, testSID)
	cur, err := ParseCertificate(string(readTestdata(t, "keys/idp-rsa.crt")))
	if err != nil {
		t.Fatal(err)
	}
	next, err := ParseCertificate(string(readTestdata(t, "keys/idp-ec.crt")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Metadata(MetadataOptions{URLs: urls, Certificates: []*x509.Certificate{cur, next}, AuthnRequestsSigned: true,
		ValidUntil: testNow.Add(48 * time.Hour), CacheDuration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "metadata.golden.xml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readTestdata(t, "metadata.golden.xml"); !bytes.Equal(got, want) {
		t.Fatalf("metadata differs from %s (run go test -update and review the diff):\n%s", golden, got)
	}
	// Parse it back as a metadata consumer would.
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if root.Tag != "EntityDescriptor" || root.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:metadata" || root.SelectAttrValue("entityID", "") != urls.EntityID {
		t.Fatalf("root %s %s", root.Tag, root.SelectAttrValue("entityID", ""))
	}
	acs := root.FindElement("./SPSSODescriptor/AssertionConsumerService")
	if acs.SelectAttrValue("Location", "") != urls.ACS || acs.SelectAttrValue("Binding", "") != bindingPOST {
		t.Fatal("ACS wrong")
	}
	keys := root.FindElements("./SPSSODescriptor/KeyDescriptor/KeyInfo/X509Data/X509Certificate")
	if len(keys) != 2 {
		t.Fatalf("%d KeyDescriptors, want current and next", len(keys))
	}
	for i, c := range []*x509.Certificate{cur, next} {
		if keys[i].Text() != base64.StdEncoding.EncodeToString(c.Raw) || keys[i].NamespaceURI() != "http://www.w3.org/2000/09/xmldsig#" {
			t.Fatalf("key %d wrong", i)
		}
	}
	if _, err := Metadata(MetadataOptions{URLs: urls}); CodeOf(err) != CodeKeysUnavailable {
		t.Fatalf("no certs: %v", err)
	}
}
