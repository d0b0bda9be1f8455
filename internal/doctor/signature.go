package doctor

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

const (
	sigAlgRSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	sigAlgECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
)

// signatureFinding checks the HTTP-Redirect binding's signature (SAML
// bindings 3.4.4.1) against the metadata's certificates, as Salesforce
// does when the connected app has "Verify Request Signatures" on: it
// verifies with the certificate uploaded from our metadata, so a request
// signed with a key that metadata does not publish fails every login.
func signatureFinding(rawQuery string, md *metadataResult) Finding {
	f := Finding{Check: "login.signature", Expected: "unsigned, or signed (rsa-sha256 or ecdsa-sha256) with a key of a metadata certificate"}
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if _, seen := raw[k]; !seen {
			raw[k] = v
		}
	}
	wantSigned := md != nil && md.authnRequestsSigned
	sigAlgRaw, signed := raw["SigAlg"]
	if !signed {
		if wantSigned {
			f.Status, f.Seen = StatusFail, "unsigned, but the metadata says AuthnRequestsSigned=\"true\""
			f.Fix = "an IdP that reads the metadata expects signed requests: report this as a samlflex bug"
			return f
		}
		f.Status, f.Seen = StatusOK, "unsigned (the account does not sign AuthnRequests; leave \"Verify Request Signatures\" off in Salesforce)"
		return f
	}
	const fixBug = "the login link signs in a way IdPs cannot verify: report this as a samlflex bug, with the Location header"
	sigAlg, err1 := url.QueryUnescape(sigAlgRaw)
	sigText, err2 := url.QueryUnescape(raw["Signature"])
	sig, err3 := base64.StdEncoding.DecodeString(sigText)
	if err1 != nil || err2 != nil || err3 != nil || len(sig) == 0 {
		f.Status, f.Seen, f.Fix = StatusFail, "SigAlg without a readable Signature", fixBug
		return f
	}
	// The signed octets are the parameters exactly as sent, in this order.
	octets := "SAMLRequest=" + raw["SAMLRequest"]
	if rs, ok := raw["RelayState"]; ok {
		octets += "&RelayState=" + rs
	}
	octets += "&SigAlg=" + sigAlgRaw
	digest := sha256.Sum256([]byte(octets))
	if md == nil || len(md.certs) == 0 {
		f.Status, f.Seen = StatusSkip, "signed with "+sigAlg+"; no metadata certificate to verify it with"
		return f
	}
	for _, c := range md.certs {
		if verifies(c, sigAlg, digest[:], sig) {
			f.Status, f.Seen = StatusOK, fmt.Sprintf("signed with %s, verifies with metadata certificate CN %q", sigAlg, c.Subject.CommonName)
			return f
		}
	}
	f.Status, f.Seen = StatusFail, "signed with "+sigAlg+", but no metadata certificate verifies the signature"
	f.Fix = "Salesforce (Verify Request Signatures) would refuse every login: check that the login link and the metadata read the same key secret, then re-upload the metadata certificate in the connected app"
	return f
}

func verifies(c *x509.Certificate, sigAlg string, digest, sig []byte) bool {
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return sigAlg == sigAlgRSASHA256 && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
	case *ecdsa.PublicKey:
		return sigAlg == sigAlgECDSASHA256 && ecdsa.VerifyASN1(pub, digest, sig)
	}
	return false
}
