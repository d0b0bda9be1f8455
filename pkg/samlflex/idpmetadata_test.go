package samlflex

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// idpmdNow is inside every test certificate's validity (2025-06-01 to
// 2027-06-01) and before salesforce.xml's validUntil (2027-06-01).
var idpmdNow = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func idpmdRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// idpmdCertPEM returns a test certificate as ParseIdPMetadata returns it.
func idpmdCertPEM(t *testing.T, name string) string {
	t.Helper()
	p, err := NormalizeCertificate(idpmdRead(t, "keys/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// idpmdCertB64 returns a test certificate as metadata carries it.
func idpmdCertB64(t *testing.T, name string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range strings.Split(idpmdRead(t, "keys/"+name), "\n") {
		if !strings.HasPrefix(l, "-----") {
			b.WriteString(strings.TrimSpace(l))
		}
	}
	return b.String()
}

// idpmdEntity builds an EntityDescriptor shaped like salesforce.xml for
// the given entityID, with attrs on the root and the given signing certs.
func idpmdEntity(entityID, attrs string, certs ...string) string {
	var kds strings.Builder
	for _, c := range certs {
		fmt.Fprintf(&kds, `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`, c)
	}
	return fmt.Sprintf(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s"%s><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">%s<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s/idp/endpoint/HttpRedirect"/></md:IDPSSODescriptor></md:EntityDescriptor>`,
		entityID, attrs, kds.String(), entityID)
}

const idpmdSPEntity = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>`

func idpmdGroup(attrs string, children ...string) string {
	return `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"` + attrs + `>` + strings.Join(children, "") + `</md:EntitiesDescriptor>`
}

func TestParseIdPMetadataSalesforce(t *testing.T) {
	t.Parallel()
	m := mustParseIdPMetadata(t, []byte(idpmdRead(t, "idp-metadata/salesforce.xml")), "")
	if m.EntityID != "https://acme.my.salesforce.com" {
		t.Errorf("EntityID = %q", m.EntityID)
	}
	// The HTTP-POST endpoint is listed first; samlflex needs the redirect one.
	if m.SSOURL != "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect" {
		t.Errorf("SSOURL = %q", m.SSOURL)
	}
	if want := []string{idpmdCertPEM(t, "idp-rsa.crt")}; !slices.Equal(m.Certificates, want) {
		t.Errorf("Certificates = %q, want %q", m.Certificates, want)
	}
	if want := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC); !m.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want %v", m.ValidUntil, want)
	}
	if len(m.Notes) != 0 {
		t.Errorf("Notes = %q", m.Notes)
	}

	// The imported settings are ones account put accepts, and they replace
	// (not extend) what was stored.
	acct := Account{
		AccountSID: "AC0123456789abcdef0123456789abcdef", FriendlyName: "Salesforce",
		StartURL: "https://agent.example.com", IdPCertificates: []string{idpmdCertPEM(t, "other-rsa.crt")},
		IdPIssuer: "https://old.example.com",
	}
	m.Apply(&acct)
	if err := acct.Validate(idpmdNow); err != nil {
		t.Fatalf("Validate after Apply: %v", err)
	}
	if len(acct.IdPCertificates) != 1 || acct.IdPCertificates[0] != m.Certificates[0] || acct.IdPIssuer != m.EntityID || acct.IdPSSOURL != m.SSOURL {
		t.Errorf("Apply gave %+v", acct)
	}
	acct.IdPCertificates[0] = "changed"
	if m.Certificates[0] == "changed" {
		t.Error("Apply shares the certificate slice with the IdPMetadata")
	}
}

func TestParseIdPMetadataSimpleSAMLphp(t *testing.T) {
	t.Parallel()
	const entity = "https://idp.example.org/simplesaml/saml2/idp/metadata.php"
	const sso = "https://idp.example.org/simplesaml/saml2/idp/SSOService.php"
	tests := []struct {
		name  string
		file  string
		certs []string
	}{
		// One key: SimpleSAMLphp lists it twice, use="signing" and
		// use="encryption"; it is returned once.
		{"one key", "idp-metadata/simplesamlphp.xml", []string{"idp-rsa.crt"}},
		// A rollover (new_certificate set): the new key (signing and
		// encryption) first, then the old one (signing only). Both are
		// trusted so that logins work before and after the IdP switches.
		{"rollover", "idp-metadata/simplesamlphp-rollover.xml", []string{"idp-rsa.crt", "other-rsa.crt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParseIdPMetadata(t, []byte(idpmdRead(t, tt.file)), "")
			var want []string
			for _, c := range tt.certs {
				want = append(want, idpmdCertPEM(t, c))
			}
			if m.EntityID != entity || m.SSOURL != sso || !slices.Equal(m.Certificates, want) || !m.ValidUntil.IsZero() {
				t.Errorf("got %+v\nwant entity %s, sso %s, certificates %s", m, entity, sso, tt.certs)
			}
		})
	}
}

func TestParseIdPMetadataCertificates(t *testing.T) {
	t.Parallel()
	const id = "https://acme.my.salesforce.com"
	cur, other, expired := idpmdCertB64(t, "idp-rsa.crt"), idpmdCertB64(t, "other-rsa.crt"), idpmdCertB64(t, "idp-rsa-expired.crt")
	tests := []struct {
		name      string
		doc       string
		want      []string // file names under keys/
		wantNotes int
	}{
		{"two signing keys", idpmdEntity(id, "", cur, other), []string{"idp-rsa.crt", "other-rsa.crt"}, 0},
		{"the same key twice", idpmdEntity(id, "", cur, cur), []string{"idp-rsa.crt"}, 0},
		{"expired key left out", idpmdEntity(id, "", expired, cur), []string{"idp-rsa.crt"}, 1},
		{"no use means signing too", strings.Replace(idpmdEntity(id, "", cur), ` use="signing"`, "", 1), []string{"idp-rsa.crt"}, 0},
		{"line-wrapped base64", idpmdEntity(id, "", "\n  "+cur[:64]+"\n  "+cur[64:]+"\n"), []string{"idp-rsa.crt"}, 0},
		{"encryption key ignored", strings.Replace(idpmdEntity(id, "", other, cur), `use="signing"`, `use="encryption"`, 1), []string{"idp-rsa.crt"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParseIdPMetadata(t, []byte(tt.doc), "")
			var want []string
			for _, c := range tt.want {
				want = append(want, idpmdCertPEM(t, c))
			}
			if !slices.Equal(m.Certificates, want) {
				t.Errorf("Certificates = %q, want %s", m.Certificates, tt.want)
			}
			if len(m.Notes) != tt.wantNotes {
				t.Errorf("Notes = %q, want %d", m.Notes, tt.wantNotes)
			}
		})
	}
}

func TestParseIdPMetadataEntities(t *testing.T) {
	t.Parallel()
	cur := idpmdCertB64(t, "idp-rsa.crt")
	a, b := idpmdEntity("https://a.example.com", "", cur), idpmdEntity("https://b.example.com", "", cur)
	tests := []struct {
		name     string
		doc      string
		entityID string
		want     string
	}{
		{"one IdP and an SP", idpmdGroup("", idpmdSPEntity, a), "", "https://a.example.com"},
		{"nested group", idpmdGroup("", idpmdSPEntity, idpmdGroup("", b)), "", "https://b.example.com"},
		{"chosen among two", idpmdGroup("", a, b), "https://b.example.com", "https://b.example.com"},
		{"chosen with spaces around", idpmdGroup("", a, b), " https://a.example.com ", "https://a.example.com"},
		{"chosen in a single entity", a, "https://a.example.com", "https://a.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParseIdPMetadata(t, []byte(tt.doc), tt.entityID)
			if m.EntityID != tt.want || m.SSOURL != tt.want+"/idp/endpoint/HttpRedirect" {
				t.Errorf("got %s %s, want %s", m.EntityID, m.SSOURL, tt.want)
			}
		})
	}
}

// TestParseIdPMetadataValidUntil checks both sides of validUntil, on the
// entity and on the groups around it: valid strictly before the instant.
func TestParseIdPMetadataValidUntil(t *testing.T) {
	t.Parallel()
	const id = "https://acme.my.salesforce.com"
	cur := idpmdCertB64(t, "idp-rsa.crt")
	until := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	attr := ` validUntil="2026-03-01T12:00:00Z"`
	later := ` validUntil="2026-09-01T00:00:00Z"`
	docs := []struct {
		name string
		doc  string
	}{
		{"EntityDescriptor", idpmdEntity(id, attr, cur)},
		{"EntityDescriptor with fraction", idpmdEntity(id, ` validUntil="2026-03-01T12:00:00.000Z"`, cur)},
		{"EntitiesDescriptor", idpmdGroup(attr, idpmdEntity(id, later, cur))},
		{"outer of nested groups", idpmdGroup(attr, idpmdGroup(later, idpmdEntity(id, "", cur)))},
		{"inner of nested groups", idpmdGroup(later, idpmdGroup(attr, idpmdEntity(id, later, cur)))},
	}
	for _, d := range docs {
		for _, side := range []struct {
			name   string
			now    time.Time
			accept bool
		}{
			{"just before", until.Add(-time.Nanosecond), true},
			{"at", until, false},
			{"after", until.Add(time.Hour), false},
		} {
			t.Run(d.name+"/"+side.name, func(t *testing.T) {
				t.Parallel()
				m, err := ParseIdPMetadata([]byte(d.doc), side.now, "")
				if side.accept {
					if err != nil {
						t.Fatal(err)
					}
					if !m.ValidUntil.Equal(until) {
						t.Errorf("ValidUntil = %v, want %v", m.ValidUntil, until)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidConfig || !strings.Contains(e.Public, "has expired (its validUntil") {
					t.Fatalf("err = %v, want the expired validUntil refusal", err)
				}
			})
		}
	}
}

func TestParseIdPMetadataRefusals(t *testing.T) {
	t.Parallel()
	sf := idpmdRead(t, "idp-metadata/salesforce.xml")
	cur, expired := idpmdCertB64(t, "idp-rsa.crt"), idpmdCertB64(t, "idp-rsa-expired.crt")
	a, b := idpmdEntity("https://a.example.com", "", cur), idpmdEntity("https://b.example.com", "", cur)
	edit := func(old, repl string) string {
		if !strings.Contains(sf, old) {
			t.Fatalf("salesforce.xml lacks %q", old)
		}
		return strings.Replace(sf, old, repl, 1)
	}
	const redirectSSO = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"/>`
	const postSSO = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.my.salesforce.com/idp/endpoint/HttpPost"/>`
	deep := strings.Repeat("<x>", maxMetadataDepth) + strings.Repeat("</x>", maxMetadataDepth)
	many := strings.Repeat("<x/>", maxMetadataElements)
	tests := []struct {
		name       string
		doc        string
		entityID   string
		now        time.Time // zero: idpmdNow
		wantCode   Code
		wantPublic string // a phrase of the public sentence of this refusal
		wantDetail string // a phrase of the detail (names the values)
	}{
		{"DTD", strings.Replace(sf, `?>`, `?><!DOCTYPE md:EntityDescriptor [<!ENTITY x "https://evil.example">]>`, 1), "", time.Time{}, CodeInvalidConfig, "document type declaration", "DOCTYPE"},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&e;"/>`, "", time.Time{}, CodeInvalidConfig, "document type declaration", "SYSTEM"},
		{"HTML page", "<!DOCTYPE html><html><body>Login</body></html>", "", time.Time{}, CodeInvalidConfig, "HTML page", "DOCTYPE html"},
		{"not XML", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "", time.Time{}, CodeInvalidConfig, "empty or not XML", "no root"},
		{"empty", "", "", time.Time{}, CodeInvalidConfig, "empty or not XML", "no root"},
		{"two roots", sf + idpmdSPEntity, "", time.Time{}, CodeInvalidConfig, "not well-formed XML", "second root"},
		{"unclosed", sf[:len(sf)/2], "", time.Time{}, CodeInvalidConfig, "not well-formed XML", "XML does not parse"},
		{"wrong namespace", strings.ReplaceAll(sf, "urn:oasis:names:tc:SAML:2.0:metadata", "urn:example:metadata"), "", time.Time{}, CodeInvalidConfig, "not SAML 2.0 metadata", "urn:example:metadata"},
		{"a SAML response", idpmdRead(t, "response-signed.xml"), "", time.Time{}, CodeInvalidConfig, "not SAML 2.0 metadata", "Response"},
		{"too large", sf + "<!--" + strings.Repeat("x", MaxIdPMetadataBytes) + "-->", "", time.Time{}, CodeInvalidConfig, "larger than samlflex accepts", "bytes"},
		{"too deep", edit("</md:IDPSSODescriptor>", "<md:Extensions>"+deep+"</md:Extensions></md:IDPSSODescriptor>"), "", time.Time{}, CodeInvalidConfig, "nests them deeper", "depth"},
		{"too many elements", edit("</md:IDPSSODescriptor>", "<md:Extensions>"+many+"</md:Extensions></md:IDPSSODescriptor>"), "", time.Time{}, CodeInvalidConfig, "more XML elements", "elements"},
		{"SP metadata", idpmdSPEntity, "", time.Time{}, CodeInvalidConfig, "no IDPSSODescriptor", "https://sp.example.com"},
		{"group without IdP", idpmdGroup("", idpmdSPEntity), "", time.Time{}, CodeInvalidConfig, "no IDPSSODescriptor", "https://sp.example.com"},
		{"empty group", idpmdGroup(""), "", time.Time{}, CodeInvalidConfig, "holds no EntityDescriptor", "without entities"},
		{"several IdPs", idpmdGroup("", a, idpmdSPEntity, b), "", time.Time{}, CodeInvalidConfig, "several identity providers", `"https://a.example.com", "https://b.example.com"`},
		{"unknown entityID", idpmdGroup("", a, b), "https://c.example.com", time.Time{}, CodeInvalidConfig, "no identity provider with the entityID given", `"https://a.example.com", "https://b.example.com"`},
		{"entityID not the single entity's", sf, "https://other.my.salesforce.com", time.Time{}, CodeInvalidConfig, "no identity provider with the entityID given", `"https://acme.my.salesforce.com"`},
		{"entityID chooses an SP", idpmdGroup("", a, idpmdSPEntity), "https://sp.example.com", time.Time{}, CodeInvalidConfig, "no identity provider with the entityID given", `"https://a.example.com"`},
		{"two IDPSSODescriptors", edit("</md:EntityDescriptor>", `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`), "", time.Time{}, CodeInvalidConfig, "several IDPSSODescriptor", "2 IDPSSODescriptor"},
		{"repeated entityID", edit(`entityID="https://acme.my.salesforce.com"`, `entityID="https://acme.my.salesforce.com" entityID="https://evil.example"`), "", time.Time{}, CodeInvalidConfig, "repeats an XML attribute", "entityID"},
		{"repeated Location", edit(`Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"`, `Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect" Location="https://evil.example/sso"`), "", time.Time{}, CodeInvalidConfig, "repeats an XML attribute", "Location"},
		{"empty entityID", edit(`entityID="https://acme.my.salesforce.com"`, `entityID=" "`), "", time.Time{}, CodeInvalidConfig, "no entityID", "empty entityID"},
		{"expired validUntil", sf, "", time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), CodeInvalidConfig, "has expired (its validUntil", "2027-06-01T00:00:00Z"},
		{"validUntil not UTC RFC 3339", edit(`validUntil="2027-06-01T00:00:00.000Z"`, `validUntil="2027-06-01T00:00:00"`), "", time.Time{}, CodeInvalidConfig, "not a valid UTC date", "2027-06-01T00:00:00"},
		{"only HTTP-POST SSO", edit(redirectSSO, ""), "", time.Time{}, CodeInvalidConfig, "only an HTTP-POST SingleSignOnService, and samlflex sends its login request with the HTTP-Redirect binding", "HTTP-POST"},
		{"no SSO", strings.Replace(edit(redirectSSO, ""), postSSO, "", 1), "", time.Time{}, CodeInvalidConfig, "no SingleSignOnService with the HTTP-Redirect binding", "none"},
		{"only SOAP and POST SSO", edit(redirectSSO, `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://acme.my.salesforce.com/soap"/>`), "", time.Time{}, CodeInvalidConfig, "no SingleSignOnService with the HTTP-Redirect binding", "SOAP"},
		{"http SSO URL", edit(`Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"`, `Location="http://acme.my.salesforce.com/idp/endpoint/HttpRedirect"`), "", time.Time{}, CodeInvalidConfig, "no usable Location", "https://"},
		{"relative SSO URL", edit(`Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"`, `Location="/idp/endpoint/HttpRedirect"`), "", time.Time{}, CodeInvalidConfig, "no usable Location", "/idp/endpoint/HttpRedirect"},
		{"no signing key", edit(`use="signing"`, `use="encryption"`), "", time.Time{}, CodeInvalidConfig, "no signing key", "encryption"},
		{"no key at all", idpmdEntity("https://a.example.com", ""), "", time.Time{}, CodeInvalidConfig, "no signing key", "none"},
		{"certificate not base64", edit(cur, "not a certificate!"), "", time.Time{}, CodeInvalidConfig, "cannot be read", "signing certificate 1"},
		{"certificate not DER", edit(cur, "AAAA"+cur[40:]), "", time.Time{}, CodeInvalidConfig, "cannot be read", "signing certificate 1"},
		{"second certificate bad", idpmdEntity("https://a.example.com", "", cur, "AAAA"), "", time.Time{}, CodeInvalidConfig, "cannot be read", "signing certificate 2"},
		{"only expired certificates", idpmdEntity("https://a.example.com", "", expired), "", time.Time{}, CodeCertificateExpired, "Every signing certificate in the IdP metadata has expired", "2025-01-01"},
		// encoding/xml hands a prefixed attribute, or a namespace
		// declaration, to the struct field of the same local name.
		{"prefixed entityID", edit(`entityID="https://acme.my.salesforce.com"`, `entityID="https://acme.my.salesforce.com" xmlns:x="urn:x" x:entityID="https://evil.example"`), "", time.Time{}, CodeInvalidConfig, "prefixed attribute or namespace declaration", "urn:x:entityID"},
		{"declaration named entityID", edit(`entityID="https://acme.my.salesforce.com"`, `xmlns:entityID="https://evil.example" entityID="https://acme.my.salesforce.com"`), "", time.Time{}, CodeInvalidConfig, "prefixed attribute or namespace declaration", "xmlns:entityID"},
		{"prefixed use makes an encryption key signing", edit(`<md:KeyDescriptor use="signing">`, `<md:KeyDescriptor xmlns:x="urn:x" use="encryption" x:use="signing">`), "", time.Time{}, CodeInvalidConfig, "prefixed attribute or namespace declaration", "urn:x:use"},
		{"prefixed Location", edit(`Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"`, `Location="https://acme.my.salesforce.com/idp/endpoint/HttpRedirect" xmlns:x="urn:x" x:Location="https://evil.example/sso"`), "", time.Time{}, CodeInvalidConfig, "prefixed attribute or namespace declaration", "urn:x:Location"},
		{"an EntityDescriptor nested between two IDPSSODescriptors", edit("</md:EntityDescriptor>", `<md:Extensions><md:EntityDescriptor entityID="https://x.example"/></md:Extensions><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`), "", time.Time{}, CodeInvalidConfig, "inside another element", "inside <Extensions>"},
		{"the same entityID twice", idpmdGroup("", a, strings.Replace(b, "https://b.example.com", "https://a.example.com", 1)), "https://a.example.com", time.Time{}, CodeInvalidConfig, "same entityID twice", "https://a.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = idpmdNow
			}
			m, err := ParseIdPMetadata([]byte(tt.doc), now, tt.entityID)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (metadata %+v), want *Error %s", err, m, tt.wantCode)
			}
			if e.Code != tt.wantCode {
				t.Errorf("code = %s, want %s (%v)", e.Code, tt.wantCode, err)
			}
			if !strings.Contains(e.Public, tt.wantPublic) {
				t.Errorf("public = %q, want it to contain %q", e.Public, tt.wantPublic)
			}
			if !strings.Contains(err.Error(), tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", err.Error(), tt.wantDetail)
			}
			// Public never quotes the document.
			for _, s := range []string{"acme", "example.com", "evil", "passwd"} {
				if strings.Contains(e.Public, s) {
					t.Errorf("public %q quotes the input (%q)", e.Public, s)
				}
			}
		})
	}
}

func TestParseIdPMetadataSigningKeyWithoutCertificate(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(idpmdEntity("https://a.example.com", "", "X"),
		`<ds:X509Data><ds:X509Certificate>X</ds:X509Certificate></ds:X509Data>`, `<ds:KeyName>acme</ds:KeyName>`, 1)
	_, err := ParseIdPMetadata([]byte(doc), idpmdNow, "")
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidConfig || !strings.Contains(e.Public, "carries no X509Certificate") {
		t.Fatalf("err = %v, want the missing-certificate refusal", err)
	}
}

// TestParseIdPMetadataBOM: a file saved by a Windows editor starts with a
// UTF-8 byte order mark, which encoding/xml reads as text before the root.
func TestParseIdPMetadataBOM(t *testing.T) {
	t.Parallel()
	m, err := ParseIdPMetadata([]byte("\xef\xbb\xbf"+idpmdRead(t, "idp-metadata/salesforce.xml")), idpmdNow, "")
	if err != nil || m.EntityID != "https://acme.my.salesforce.com" {
		t.Fatalf("got %+v, %v", m, err)
	}
}

// TestParseIdPMetadataOtherShapes: elements samlflex does not read
// (metadata signatures, extensions, other role descriptors, SAML 1
// endpoints, attributes) neither stop the import nor change its result.
// The shapes follow Shibboleth IdP and AD FS metadata, written by hand.
func TestParseIdPMetadataOtherShapes(t *testing.T) {
	t.Parallel()
	cur := idpmdCertB64(t, "idp-rsa.crt")
	kd := func(use string) string {
		return `<KeyDescriptor use="` + use + `"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` + cur + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`
	}
	shibboleth := `<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport" entityID="https://idp.example.edu/idp/shibboleth">
  <Extensions><alg:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><alg:SigningMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/></Extensions>
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol urn:oasis:names:tc:SAML:1.1:protocol urn:mace:shibboleth:1.0">
    <Extensions><shibmd:Scope regexp="false">example.edu</shibmd:Scope><mdui:UIInfo><mdui:DisplayName xml:lang="en">Example University</mdui:DisplayName></mdui:UIInfo></Extensions>
    ` + kd("signing") + kd("encryption") + `
    <ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example.edu:8443/idp/profile/SAML2/SOAP/ArtifactResolution" index="2"/>
    <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.edu/idp/profile/SAML2/Redirect/SLO"/>
    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>
    <SingleSignOnService Binding="urn:mace:shibboleth:1.0:profiles:AuthnRequest" Location="https://idp.example.edu/idp/profile/Shibboleth/SSO"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.edu/idp/profile/SAML2/POST/SSO"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.edu/idp/profile/SAML2/Redirect/SSO"/>
  </IDPSSODescriptor>
  <AttributeAuthorityDescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">` + kd("signing") + `<AttributeService Binding="urn:oasis:names:tc:SAML:1.0:bindings:SOAP-binding" Location="https://idp.example.edu:8443/idp/profile/SAML1/SOAP/AttributeQuery"/></AttributeAuthorityDescriptor>
</EntityDescriptor>`
	adfs := `<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_1b1d4c1e" entityID="http://adfs.example.com/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` + cur + `</X509Certificate></X509Data></KeyInfo></ds:Signature><RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">` + kd("signing") + `</RoleDescriptor><SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://adfs.example.com/adfs/ls/" index="0" isDefault="true"/></SPSSODescriptor><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + kd("encryption") + kd("signing") + `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/><NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://adfs.example.com/adfs/ls/"/><Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="E-Mail Address" xmlns="urn:oasis:names:tc:SAML:2.0:assertion"/></IDPSSODescriptor></EntityDescriptor>`
	tests := []struct {
		name, doc, entity, sso string
	}{
		{"Shibboleth", shibboleth, "https://idp.example.edu/idp/shibboleth", "https://idp.example.edu/idp/profile/SAML2/Redirect/SSO"},
		{"AD FS", adfs, "http://adfs.example.com/adfs/services/trust", "https://adfs.example.com/adfs/ls/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParseIdPMetadata(t, []byte(tt.doc), "")
			if m.EntityID != tt.entity || m.SSOURL != tt.sso || !slices.Equal(m.Certificates, []string{idpmdCertPEM(t, "idp-rsa.crt")}) {
				t.Errorf("got %+v", m)
			}
		})
	}
}

// TestParseIdPMetadataCertificateExpiryEdge: a certificate is valid through
// its NotAfter (RFC 5280), the same edge as Account.Validate, so an import
// never leaves out a certificate that account put would accept.
func TestParseIdPMetadataCertificateExpiryEdge(t *testing.T) {
	t.Parallel()
	notAfter := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC) // keys/idp-rsa.crt
	doc := []byte(idpmdEntity("https://a.example.com", "", idpmdCertB64(t, "idp-rsa.crt")))
	if m, err := ParseIdPMetadata(doc, notAfter, ""); err != nil || len(m.Certificates) != 1 {
		t.Fatalf("at NotAfter: %+v, %v", m, err)
	}
	if _, err := ParseIdPMetadata(doc, notAfter.Add(time.Second), ""); CodeOf(err) != CodeCertificateExpired {
		t.Fatalf("after NotAfter: %v, want certificate_expired", err)
	}
}

// mustParseIdPMetadata parses doc at idpmdNow, choosing entityID ("": the
// only one); an error fails t.
func mustParseIdPMetadata(t *testing.T, doc []byte, entityID string) IdPMetadata {
	t.Helper()
	m, err := ParseIdPMetadata(doc, idpmdNow, entityID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
