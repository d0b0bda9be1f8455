package samlflex

// Reading a ds:Signature from the tree: which signature covers an element,
// its parts, and the certificate its KeyInfo presents. Nothing here is
// trusted until dsig.go has verified the SignedInfo these parts come from.

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// referencingSignature returns the ds:Signature that covers el: the first
// one in document order (el's subtree, depth first) with a Reference whose
// URI is empty or names el's ID ("#" then the ID). nil when there is none.
func referencingSignature(el *etree.Element) *etree.Element {
	id := attrValue(el, "ID")
	for _, sig := range descendants(el, nsDSig, "Signature") {
		si := firstChild(sig, nsDSig, "SignedInfo")
		if si == nil {
			continue
		}
		for _, ref := range childElems(si, nsDSig, "Reference") {
			if refersTo(attrValue(ref, "URI"), id) {
				return sig
			}
		}
	}
	return nil
}

func refersTo(uri, id string) bool {
	return uri == "" || (id != "" && len(uri) == len(id)+1 && uri[0] == '#' && uri[1:] == id)
}

// sigParts is one ds:Signature as read from the tree.
type sigParts struct {
	signedInfo *etree.Element
	c14n       c14nOptions // SignedInfo's CanonicalizationMethod
	method     string      // SignatureMethod
	refC14N    c14nOptions // the Reference's exclusive c14n transform
	digestAlg  string
	digest     []byte
	value      []byte // SignatureValue
	keyInfo    bool   // a KeyInfo is present
	keyDER     []byte // its first X509Certificate, nil if none decodes
}

// readSignature reads sig, which referencingSignature found for el, with
// the shape XML-DSig and the SAML profile allow: one SignedInfo, one
// SignatureValue, at most one KeyInfo (in that order, then any Objects),
// and in SignedInfo exactly one Reference. Its failures are
// signature_invalid; the algorithms were already checked by
// checkAlgorithms.
func readSignature(sig *etree.Element) (*sigParts, error) {
	var si, sv, ki *etree.Element
	objects := false
	for _, c := range sig.ChildElements() {
		if namespaceOf(c) != nsDSig {
			return nil, malformed("%s is not an XML-DSig element", describe(c))
		}
		switch {
		case c.Tag == "SignedInfo" && si == nil:
			si = c
		case c.Tag == "SignatureValue" && si != nil && sv == nil:
			sv = c
		case c.Tag == "KeyInfo" && sv != nil && ki == nil && !objects:
			ki = c
		case c.Tag == "Object" && sv != nil:
			objects = true
		default:
			return nil, malformed("unexpected %s in ds:Signature", truncateDetail(c.Tag))
		}
	}
	if si == nil || sv == nil {
		return nil, malformed("ds:Signature needs a SignedInfo and a SignatureValue")
	}
	p := &sigParts{signedInfo: si, keyInfo: ki != nil}
	var ref *etree.Element
	for i, c := range si.ChildElements() {
		switch {
		case namespaceOf(c) != nsDSig:
			return nil, malformed("%s in SignedInfo", describe(c))
		case i == 0 && c.Tag == "CanonicalizationMethod":
			alg := attrValue(c, "Algorithm")
			if !excC14NAlgorithm(alg) {
				return nil, malformed("canonicalization method %q", truncateDetail(alg))
			}
			inclusive, err := prefixList(c)
			if err != nil {
				return nil, err
			}
			p.c14n = c14nOptions{comments: alg == algExcC14NWithComments, inclusive: inclusive}
		case i == 1 && c.Tag == "SignatureMethod":
			p.method = attrValue(c, "Algorithm")
		case i == 2 && c.Tag == "Reference":
			ref = c
		default:
			return nil, malformed("%s at position %d of SignedInfo (one CanonicalizationMethod, SignatureMethod and Reference)", c.Tag, i+1)
		}
	}
	if ref == nil {
		return nil, malformed("SignedInfo has no Reference")
	}
	if err := checkTransforms(ref); err != nil {
		return nil, err
	}
	if err := checkSignedInfoShape(si); err != nil {
		return nil, err
	}
	ts := childElems(firstChild(ref, nsDSig, "Transforms"), nsDSig, "Transform")
	inclusive, err := prefixList(ts[1])
	if err != nil {
		return nil, err
	}
	p.refC14N = c14nOptions{comments: attrValue(ts[1], "Algorithm") == algExcC14NWithComments, inclusive: inclusive}
	dm, dv := childElems(ref, nsDSig, "DigestMethod"), childElems(ref, nsDSig, "DigestValue")
	if len(dm) != 1 || len(dv) != 1 {
		return nil, malformed("Reference needs one DigestMethod and one DigestValue")
	}
	p.digestAlg = attrValue(dm[0], "Algorithm")
	if p.digest, err = base64Text(dv[0]); err != nil {
		return nil, malformed("DigestValue: %v", err)
	}
	if p.value, err = base64Text(sv); err != nil {
		return nil, malformed("SignatureValue: %v", err)
	}
	if ki != nil {
		p.keyDER = keyInfoDER(ki)
	}
	return p, nil
}

// malformed is the signature_invalid of a ds:Signature whose shape is not
// the SAML profile's.
func malformed(format string, args ...any) error {
	return Errorf(CodeSignatureInvalid, "signature is malformed: "+format, args...)
}

// checkSignedInfoShape refuses any element under SignedInfo that the SAML
// profile's signature does not have: below the three parts readSignature
// checked, only an InclusiveNamespaces under the c14n method and under the
// exclusive c14n transform, a Reference of [Transforms] DigestMethod
// DigestValue, Transforms of Transform elements, and nothing else.
// SignedInfo is canonicalized before the public-key check, so anything
// allowed there is work done for a forged signature: 830 empty elements
// under DigestMethod with a 16 KB PrefixList once cost 270 ms
// (BenchmarkForgedSignedInfo).
func checkSignedInfoShape(si *etree.Element) error {
	for _, c := range si.ChildElements() {
		switch c.Tag {
		case "CanonicalizationMethod":
			if err := onlyInclusiveNamespaces(c); err != nil {
				return err
			}
		case "SignatureMethod":
			if len(c.ChildElements()) > 0 {
				return malformed("an element inside SignatureMethod")
			}
		case "Reference":
			want := []string{"Transforms", "DigestMethod", "DigestValue"}
			for _, r := range c.ChildElements() {
				for len(want) > 0 && want[0] != r.Tag {
					want = want[1:]
				}
				if len(want) == 0 || namespaceOf(r) != nsDSig {
					return malformed("%s in Reference (want [Transforms] DigestMethod DigestValue, once each)", describe(r))
				}
				want = want[1:]
				switch r.Tag {
				case "Transforms":
					for _, t := range r.ChildElements() {
						if !isElem(t, nsDSig, "Transform") {
							return malformed("%s in Transforms", describe(t))
						}
						if excC14NAlgorithm(attrValue(t, "Algorithm")) {
							if err := onlyInclusiveNamespaces(t); err != nil {
								return err
							}
						} else if len(t.ChildElements()) > 0 {
							return malformed("an element inside a Transform")
						}
					}
				default: // DigestMethod, DigestValue
					if len(r.ChildElements()) > 0 {
						return malformed("an element inside %s", r.Tag)
					}
				}
			}
		}
	}
	return nil
}

// onlyInclusiveNamespaces refuses anything in an exclusive c14n method or
// transform but one empty InclusiveNamespaces.
func onlyInclusiveNamespaces(m *etree.Element) error {
	cs := m.ChildElements()
	if len(cs) == 0 {
		return nil
	}
	if len(cs) > 1 || !isElem(cs[0], algExcC14N, "InclusiveNamespaces") || len(cs[0].ChildElements()) > 0 {
		return malformed("%s holds more than one empty InclusiveNamespaces", m.Tag)
	}
	return nil
}

// prefixList reads the InclusiveNamespaces PrefixList of an exclusive c14n
// method or transform ("#default" is the default namespace). It lists at
// most maxNSInScope prefixes: no element has more bindings in scope, and
// canonicalization looks every listed prefix up at every element.
func prefixList(method *etree.Element) ([]string, error) {
	in := firstChild(method, algExcC14N, "InclusiveNamespaces")
	if in == nil {
		return nil, nil
	}
	out := strings.Fields(attrValue(in, "PrefixList"))
	if len(out) > maxNSInScope {
		return nil, malformed("InclusiveNamespaces lists %d prefixes, at most %d can be in scope", len(out), maxNSInScope)
	}
	for i, p := range out {
		if p == "#default" {
			out[i] = ""
		}
	}
	return out, nil
}

// base64Text decodes an element's text, ignoring the line breaks and
// spaces IdPs wrap base64 with.
func base64Text(e *etree.Element) ([]byte, error) {
	text, err := textOnly(e)
	if err != nil {
		return nil, err
	}
	text = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, text)
	return base64.StdEncoding.DecodeString(text)
}

// keyInfoDER returns the first X509Certificate of the first X509Data in a
// KeyInfo, decoded; nil when there is none or it is not base64.
func keyInfoDER(ki *etree.Element) []byte {
	xd := firstChild(ki, nsDSig, "X509Data")
	if xd == nil {
		return nil
	}
	xc := firstChild(xd, nsDSig, "X509Certificate")
	if xc == nil {
		return nil
	}
	der, err := base64Text(xc)
	if err != nil || len(der) == 0 {
		return nil
	}
	return der
}

// sigFacts is what the signature covering an element presents, for the
// decision trace.
type sigFacts struct {
	found      bool              // a signature references the element
	keyInfo    bool              // it carries a KeyInfo
	signerCert *x509.Certificate // the KeyInfo certificate, nil if none parses
}

func factsFor(sig *etree.Element) sigFacts {
	if sig == nil {
		return sigFacts{}
	}
	f := sigFacts{found: true}
	if ki := firstChild(sig, nsDSig, "KeyInfo"); ki != nil {
		f.keyInfo = true
		if der := keyInfoDER(ki); der != nil {
			f.signerCert, _ = x509.ParseCertificate(der)
		}
	}
	return f
}

// checkCert decides, for one trusted certificate, the failures that come
// before any cryptography: the signature presents another certificate
// (certificate_untrusted; one that does not even parse is
// signature_invalid), or the trusted certificate is not valid at now
// (certificate_expired: outside NotBefore..NotAfter inclusive).
func checkCert(p *sigParts, cert *x509.Certificate, now time.Time) error {
	if p.keyInfo {
		if p.keyDER == nil {
			return Errorf(CodeSignatureInvalid, "KeyInfo holds no X509Certificate")
		}
		if string(p.keyDER) != string(cert.Raw) {
			signer, err := x509.ParseCertificate(p.keyDER)
			if err != nil {
				return Errorf(CodeSignatureInvalid, "KeyInfo certificate does not parse: %v", err)
			}
			return Errorf(CodeCertificateUntrusted, "signing certificate %q (serial %s) is not the trusted certificate %q tried",
				truncateDetail(signer.Subject.CommonName), signer.SerialNumber, cert.Subject.CommonName)
		}
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return Errorf(CodeCertificateExpired, "trusted certificate %q valid %s to %s, now %s", cert.Subject.CommonName,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
