package samlflex

// Signatures and algorithms: which methods are accepted. The verification
// of an enveloped signature is in dsig.go, reading a ds:Signature in
// sigcheck.go, canonicalization in c14n.go.

import (
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Signature and digest algorithms we accept.
var (
	strongSigMethods = map[string]bool{
		dsig.RSASHA256SignatureMethod: true, dsig.RSASHA384SignatureMethod: true, dsig.RSASHA512SignatureMethod: true,
		dsig.ECDSASHA256SignatureMethod: true, dsig.ECDSASHA384SignatureMethod: true, dsig.ECDSASHA512SignatureMethod: true,
	}
	sha1SigMethods = map[string]bool{dsig.RSASHA1SignatureMethod: true, dsig.ECDSASHA1SignatureMethod: true}
	strongDigests  = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
	}
	sha1Digest = "http://www.w3.org/2000/09/xmldsig#sha1"
)

// checkAlgorithms looks at every ds:Signature in the document before any
// verification, so that SHA-1 and the algorithms samlflex does not
// implement are refused with their own codes (and a clear fix) rather than
// surfacing later as a generic signature error.
func checkAlgorithms(root *etree.Element, allowSHA1 bool) error {
	for _, sig := range descendants(root, nsDSig, "Signature") {
		si := firstChild(sig, nsDSig, "SignedInfo")
		if si == nil {
			continue // verifySignature reports the broken shape
		}
		if m := firstChild(si, nsDSig, "CanonicalizationMethod"); m != nil {
			if alg := attrValue(m, "Algorithm"); !excC14NAlgorithm(alg) {
				return Errorf(CodeUnsupportedAlgorithm, "canonicalization method %q (samlflex verifies exclusive c14n only)", truncateDetail(alg))
			}
		}
		if m := firstChild(si, nsDSig, "SignatureMethod"); m != nil {
			alg := attrValue(m, "Algorithm")
			switch {
			case strongSigMethods[alg]:
			case sha1SigMethods[alg]:
				if !allowSHA1 {
					return Errorf(CodeSHA1NotAllowed, "signature method %s", alg)
				}
			default:
				return Errorf(CodeUnsupportedAlgorithm, "signature method %q", alg)
			}
		}
		for _, ref := range childElems(si, nsDSig, "Reference") {
			if err := checkTransforms(ref); err != nil {
				return err
			}
			if dm := firstChild(ref, nsDSig, "DigestMethod"); dm != nil {
				alg := attrValue(dm, "Algorithm")
				switch {
				case strongDigests[alg]:
				case alg == sha1Digest:
					if !allowSHA1 {
						return Errorf(CodeSHA1NotAllowed, "digest method %s", alg)
					}
				default:
					return Errorf(CodeUnsupportedAlgorithm, "digest method %q", alg)
				}
			}
		}
	}
	return nil
}

func excC14NAlgorithm(alg string) bool { return alg == algExcC14N || alg == algExcC14NWithComments }

// checkTransforms refuses a Reference whose transforms are not the SAML
// profile's (saml-core 5.4.4): the enveloped-signature transform, then
// exclusive c14n. A list without a c14n transform means Inclusive C14N.
func checkTransforms(ref *etree.Element) error {
	var algs []string
	if ts := firstChild(ref, nsDSig, "Transforms"); ts != nil {
		for _, t := range childElems(ts, nsDSig, "Transform") {
			algs = append(algs, attrValue(t, "Algorithm"))
		}
	}
	if len(algs) == 2 && algs[0] == algEnvelopedSignature && excC14NAlgorithm(algs[1]) {
		return nil
	}
	return Errorf(CodeUnsupportedAlgorithm, "reference transforms %s (samlflex verifies the enveloped-signature transform then exclusive c14n)", truncateDetail(strings.Join(algs, ", ")))
}
