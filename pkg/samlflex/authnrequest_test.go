package samlflex

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/url"
	"strings"
	"testing"
)

type parsedAuthnRequest struct {
	XMLName                     xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:protocol AuthnRequest"`
	ID                          string   `xml:"ID,attr"`
	Version                     string   `xml:"Version,attr"`
	IssueInstant                string   `xml:"IssueInstant,attr"`
	Destination                 string   `xml:"Destination,attr"`
	ProtocolBinding             string   `xml:"ProtocolBinding,attr"`
	AssertionConsumerServiceURL string   `xml:"AssertionConsumerServiceURL,attr"`
	Issuer                      string   `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	NameIDPolicy                struct {
		Format string `xml:"Format,attr"`
	} `xml:"NameIDPolicy"`
}

func decodeRedirect(t *testing.T, redirect string) (url.Values, parsedAuthnRequest) {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	z, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		t.Fatalf("not raw DEFLATE: %v", err)
	}
	var req parsedAuthnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return q, req
}

func TestAuthnRequest(t *testing.T) {
	t.Parallel()
	urls, _ := URLsFor(testBase, testSID)
	sso := "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"
	r, err := NewAuthnRequest(AuthnRequestOptions{IdPSSOURL: sso, URLs: urls, RelayState: "https://flex.example.com/x?y=1&z", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.RedirectURL, sso+"?SAMLRequest=") {
		t.Fatalf("redirect %q", r.RedirectURL)
	}
	q, req := decodeRedirect(t, r.RedirectURL)
	if req.ID != r.ID || !strings.HasPrefix(req.ID, "_samlflex_") || len(req.ID) != len("_samlflex_")+32 {
		t.Fatalf("ID %q / %q", req.ID, r.ID)
	}
	if req.Version != "2.0" || req.IssueInstant != "2026-01-15T10:00:10.000Z" || req.Destination != sso ||
		req.ProtocolBinding != bindingPOST || req.AssertionConsumerServiceURL != urls.ACS || req.Issuer != urls.EntityID ||
		req.NameIDPolicy.Format != nameIDUnspecified {
		t.Fatalf("request %+v", req)
	}
	if q.Get("RelayState") != "https://flex.example.com/x?y=1&z" || q.Has("Signature") {
		t.Fatalf("query %v", q)
	}
	r2, _ := NewAuthnRequest(AuthnRequestOptions{IdPSSOURL: sso, URLs: urls, Now: testNow})
	if r2.ID == r.ID {
		t.Fatal("request IDs repeat")
	}
	if _, err := NewAuthnRequest(AuthnRequestOptions{IdPSSOURL: sso, URLs: urls, Now: testNow, RelayState: strings.Repeat("x", 81)}); CodeOf(err) != CodeBadRequest {
		t.Fatalf("long RelayState: %v", err)
	}
	// An SSO URL that already has a query keeps it.
	r3, _ := NewAuthnRequest(AuthnRequestOptions{IdPSSOURL: sso + "?so=00D", URLs: urls, Now: testNow})
	if q3, _ := decodeRedirect(t, r3.RedirectURL); q3.Get("so") != "00D" {
		t.Fatalf("lost existing query: %s", r3.RedirectURL)
	}
}

func TestAuthnRequestSigned(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	urls, _ := URLsFor(testBase, testSID)
	for _, tc := range []struct {
		name   string
		key    crypto.Signer
		alg    string
		verify func(digest, sig []byte) bool
	}{
		{"RSA", rsaKey, SigAlgRSASHA256, func(d, s []byte) bool { return rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, d, s) == nil }},
		{"ECDSA", ecKey, SigAlgECDSASHA256, func(d, s []byte) bool { return ecdsa.VerifyASN1(&ecKey.PublicKey, d, s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewAuthnRequest(AuthnRequestOptions{IdPSSOURL: "https://idp.example.com/sso", URLs: urls, RelayState: "a b", Now: testNow, Signer: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			// The signed octets are the raw query up to &Signature=, in
			// the order SAMLRequest, RelayState, SigAlg (bindings 3.4.4.1).
			raw := r.RedirectURL[strings.Index(r.RedirectURL, "?")+1:]
			i := strings.Index(raw, "&Signature=")
			signed, sigPart := raw[:i], raw[i+len("&Signature="):]
			if !strings.HasPrefix(signed, "SAMLRequest=") || !strings.Contains(signed, "&RelayState=a+b&SigAlg=") {
				t.Fatalf("octets %q", signed)
			}
			sigB64, _ := url.QueryUnescape(sigPart)
			sig, err := base64.StdEncoding.DecodeString(sigB64)
			if err != nil {
				t.Fatal(err)
			}
			q, _ := decodeRedirect(t, r.RedirectURL)
			if q.Get("SigAlg") != tc.alg {
				t.Fatalf("SigAlg %q", q.Get("SigAlg"))
			}
			sum := sha256.Sum256([]byte(signed))
			if !tc.verify(sum[:], sig) {
				t.Fatal("signature does not verify")
			}
			sum = sha256.Sum256([]byte(strings.Replace(signed, "a+b", "a+c", 1)))
			if tc.verify(sum[:], sig) {
				t.Fatal("signature verifies a changed RelayState")
			}
		})
	}
}

// TestDeflateStored: the stored-block DEFLATE stream inflates, with
// compress/flate's reader, to the input, on both sides of the 65,535-byte
// block limit; the login link's request is under one block.
func TestDeflateStored(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 700, 1<<16 - 1, 1 << 16, 3<<16 + 7} {
		in := bytes.Repeat([]byte("samlflex"), n/8+1)[:n]
		enc := deflateStored(in)
		if blocks := max(1, (n+1<<16-2)/(1<<16-1)); len(enc) != n+5*blocks {
			t.Fatalf("%d bytes: encoded to %d, want %d (%d stored blocks)", n, len(enc), n+5*blocks, blocks)
		}
		out, err := io.ReadAll(flate.NewReader(bytes.NewReader(enc)))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: inflated %d bytes, err %v", n, len(out), err)
		}
	}
}

// BenchmarkAuthnRequest is the login link's AuthnRequest, unsigned (the
// default): its allocations were 800 KB with compress/flate's writer.
func BenchmarkAuthnRequest(b *testing.B) {
	urls, err := URLsFor("https://sso.example.com/", testSID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewAuthnRequest(AuthnRequestOptions{IdPSSOURL: "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect", URLs: urls, Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}
