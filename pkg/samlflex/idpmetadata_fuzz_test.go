package samlflex

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseIdPMetadata: whatever the document, the result is a typed
// refusal or settings that account put accepts.
func FuzzParseIdPMetadata(f *testing.F) {
	for _, name := range []string{"salesforce.xml", "simplesamlphp.xml", "simplesamlphp-rollover.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "idp-metadata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte(idpmdGroup("", idpmdSPEntity)), "https://sp.example.com")
	f.Fuzz(func(t *testing.T, raw []byte, entityID string) {
		m, err := ParseIdPMetadata(raw, idpmdNow, entityID)
		if err != nil {
			if c := CodeOf(err); c != CodeInvalidConfig && c != CodeCertificateExpired {
				t.Fatalf("code %s: %v", c, err)
			}
			return
		}
		if m.EntityID == "" || checkURL(m.SSOURL, true) != "" || len(m.Certificates) == 0 {
			t.Fatalf("accepted unusable settings %+v", m)
		}
		for _, c := range m.Certificates {
			cert, err := ParseCertificate(c)
			if err != nil || idpmdNow.After(cert.NotAfter) {
				t.Fatalf("accepted certificate %q: %v", c, err)
			}
		}
	})
}

// The worst documents within the bounds cost about as much as the bytes
// read: BenchmarkParseIdPMetadata/* compare them with Salesforce's.
func BenchmarkParseIdPMetadata(b *testing.B) {
	sf, err := os.ReadFile(filepath.Join("testdata", "idp-metadata", "salesforce.xml"))
	if err != nil {
		b.Fatal(err)
	}
	fill := func(unit string) []byte {
		head, tail := "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"><md:Extensions>", "</md:Extensions></md:EntityDescriptor>"
		n := (MaxIdPMetadataBytes - len(head) - len(tail)) / len(unit)
		return []byte(head + strings.Repeat(unit, n) + tail)
	}
	attrs := func() []byte {
		var s strings.Builder
		s.WriteString(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"`)
		for i := 0; s.Len() < MaxIdPMetadataBytes-64; i++ {
			fmt.Fprintf(&s, " a%d=\"\"", i)
		}
		s.WriteString("/>")
		return []byte(s.String())
	}
	for _, c := range []struct {
		name string
		doc  []byte
	}{
		{"salesforce", sf},
		{"1MiB-text", fill("x")},
		{"1MiB-elements-at-cap", fill(strings.Repeat("y", MaxIdPMetadataBytes/maxMetadataElements) + "<x/>")},
		{"1MiB-attributes-on-one-element", attrs()},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			for b.Loop() {
				_, _ = ParseIdPMetadata(c.doc, idpmdNow, "")
			}
		})
	}
}
