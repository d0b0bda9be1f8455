package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeIdPMetadata writes Salesforce-shaped IdP metadata (Identity
// Provider, Download Metadata) for the certificate der and returns its path.
func writeIdPMetadata(t *testing.T, dir string, der []byte, ssoBindings ...string) string {
	t.Helper()
	var sso strings.Builder
	for _, b := range ssoBindings {
		loc := "https://acme.my.salesforce.com/idp/endpoint/HttpPost"
		if strings.HasSuffix(b, "HTTP-Redirect") {
			loc = "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"
		}
		sso.WriteString(`<md:SingleSignOnService Binding="` + b + `" Location="` + loc + `"/>`)
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://acme.my.salesforce.com">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    ` + sso.String() + `
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
	p := filepath.Join(dir, "SalesforceIdentityProviderMetadata.xml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
)

// TestPutIdPMetadata: --idp-metadata fills the certificate, issuer and
// HTTP-Redirect SSO URL; it refuses to be mixed with the manual flags and
// reports a document it cannot use without saving anything.
func TestPutIdPMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, der := testCert(t, dir, "idp.crt")
	good := writeIdPMetadata(t, dir, der, bindingPOST, bindingRedirect)
	postOnlyDir := filepath.Join(dir, "post")
	if err := os.Mkdir(postOnlyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	postOnly := writeIdPMetadata(t, postOnlyDir, der, bindingPOST)
	base := func(data string) []string {
		return []string{"account", "put", "--data", data, "--account-sid", sidA, "--friendly-name", "Salesforce",
			"--start-url", "https://flex.example.com/agent-desktop"}
	}

	t.Run("imports certificate, issuer and redirect URL", func(t *testing.T) {
		t.Parallel()
		data := filepath.Join(t.TempDir(), "data")
		mustCLI(t, exitOK, nil, append(base(data), "--idp-metadata", good)...)
		got := mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA).stdout
		for _, want := range []string{"https://acme.my.salesforce.com/idp/endpoint/HttpRedirect", "CN=Test IdP idp.crt", "IdP issuer                 https://acme.my.salesforce.com"} {
			if !strings.Contains(got, want) {
				t.Errorf("account get lacks %q:\n%s", want, got)
			}
		}
	})
	refused := []struct {
		name, want string
		args       []string
		code       int
	}{
		{"mixed with --idp-issuer", "leave out --idp-issuer", []string{"--idp-metadata", good, "--idp-issuer", "https://other.example"}, exitUsage},
		{"entity ID without metadata", "--idp-metadata-entity-id needs --idp-metadata", []string{"--idp-metadata-entity-id", "x", "--idp-issuer", "https://a.example"}, exitUsage},
		{"only HTTP-POST", "HTTP-Redirect", []string{"--idp-metadata", postOnly}, exitUsage},
		{"missing file", "--idp-metadata", []string{"--idp-metadata", filepath.Join(dir, "nope.xml")}, exitUsage},
		{"plain http URL", "https", []string{"--idp-metadata", "http://127.0.0.1:1/metadata"}, exitUsage},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			r := cli(t, nil, append(base(data), tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", r.code, tc.code, tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "--idp-issuer: is required") {
				t.Errorf("a failed import also reports the issuer it would have set:\n%s", r.stderr)
			}
			if g := cli(t, nil, "account", "get", "--data", data, "--account-sid", sidA); g.code == exitOK {
				t.Fatalf("an account was saved:\n%s", g.stdout)
			}
		})
	}
}
