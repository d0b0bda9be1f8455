package samlflex

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
	"github.com/russellhaering/goxmldsig/types"
)

// goxmldsig reports most failures as untyped errors.New strings: matching
// their English text would let a library upgrade reclassify a failure
// silently. So samlflex establishes the facts that decide the
// classification itself, before calling goxmldsig: which signature covers
// the element, which certificate its KeyInfo carries, whether that is the
// trusted certificate being tried, and whether it is valid now. goxmldsig's
// own checks still run; these facts only choose the code and skip calls that
// cannot succeed. Acceptance always requires goxmldsig to verify.

// referencingSignature returns the ds:Signature that goxmldsig's
// findSignature selects for el: the first one in document order (el's
// subtree, depth first) with a Reference whose URI is empty or names el's
// ID once its first character ('#') is dropped. nil when there is none.
func referencingSignature(el *etree.Element) *etree.Element {
	id := el.SelectAttrValue(dsig.DefaultIdAttr, "")
	for _, sig := range descendants(el, nsDSig, "Signature") {
		si := firstChild(sig, nsDSig, "SignedInfo")
		if si == nil {
			continue
		}
		for _, ref := range childElems(si, nsDSig, "Reference") {
			uri := ref.SelectAttrValue("URI", "")
			if uri == "" || uri[1:] == id {
				return sig
			}
		}
	}
	return nil
}

// keyInfoCert reads the certificate that goxmldsig would take from sig's
// KeyInfo, with goxmldsig's own types and unmarshaller so that both read
// the same one. present is false when sig has no KeyInfo (goxmldsig then
// uses the single trusted certificate it is given). cert is nil when the
// KeyInfo holds no certificate that parses; goxmldsig refuses that.
func keyInfoCert(sig *etree.Element) (cert *x509.Certificate, present bool) {
	ctx, err := etreeutils.NSBuildParentContext(sig)
	if err != nil {
		return nil, true
	}
	var s types.Signature
	if err := etreeutils.NSUnmarshalElement(ctx, sig, &s); err != nil {
		return nil, true
	}
	if s.KeyInfo == nil {
		return nil, false
	}
	certs := s.KeyInfo.X509Data.X509Certificates
	if len(certs) == 0 || certs[0].Data == "" {
		return nil, true
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(certs[0].Data), ""))
	if err != nil {
		return nil, true
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, true
	}
	return c, true
}

// sigFacts is what samlflex knows about the signature covering an element
// before goxmldsig runs.
type sigFacts struct {
	found      bool              // a signature references the element
	keyInfo    bool              // it carries a KeyInfo
	signerCert *x509.Certificate // the KeyInfo certificate, nil if none parses
}

func factsFor(sig *etree.Element) sigFacts {
	if sig == nil {
		return sigFacts{}
	}
	c, present := keyInfoCert(sig)
	return sigFacts{found: true, keyInfo: present, signerCert: c}
}

// precheckCert decides, for one trusted certificate, the failures that
// samlflex can establish without goxmldsig: the signature names another
// certificate (certificate_untrusted), or this trusted certificate is not
// valid at now (certificate_expired, goxmldsig's own rule: outside
// NotBefore..NotAfter inclusive). nil means: let goxmldsig verify.
func precheckCert(f sigFacts, cert *x509.Certificate, now time.Time) error {
	if !f.found {
		return nil
	}
	if f.keyInfo && f.signerCert != nil && !f.signerCert.Equal(cert) {
		return Errorf(CodeCertificateUntrusted, "signing certificate %q (serial %s) is not the trusted certificate %q tried",
			truncateDetail(f.signerCert.Subject.CommonName), f.signerCert.SerialNumber, cert.Subject.CommonName)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return Errorf(CodeCertificateExpired, "trusted certificate %q valid %s to %s, now %s", cert.Subject.CommonName,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// classifySigError maps an error returned by goxmldsig's Validate, after
// precheckCert passed, with typed checks only: its traversal limit (an
// exported sentinel) means the document is too complex; anything else
// means the signature does not verify with a certificate that samlflex
// already knows is the trusted, currently valid one.
func classifySigError(err error) error {
	switch {
	case errors.Is(err, etreeutils.ErrTraversalLimit):
		return tooComplex(limitElements, "goxmldsig traversal limit (%d elements) reached: %v", goxmldsigTraversalLimit, err)
	default:
		return Errorf(CodeSignatureInvalid, "signature does not verify: %v", err)
	}
}

// normalizedCopy returns el, or a copy of it in which only the signature
// that goxmldsig will check for el has its ECDSA SignatureValue rewritten
// from r||s to DER (see ecdsa.go). Rewriting it in place, or rewriting other
// signatures, would change bytes that an enclosing signature covers: an
// ECDSA-signed Assertion inside a signed Response would then fail the
// Response's digest.
//
// It also returns the signature that references the element (in the
// element returned), or nil, so that the tree is searched once.
func normalizedCopy(el *etree.Element) (*etree.Element, *etree.Element) {
	sig := referencingSignature(el)
	if sig == nil || !needsECDSANormalization(sig) {
		return el, sig
	}
	cp := el.Copy()
	sig = referencingSignature(cp)
	if sig != nil {
		normalizeECDSASignature(sig)
	}
	return cp, sig
}
