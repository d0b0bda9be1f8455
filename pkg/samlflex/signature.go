package samlflex

// Signatures and algorithms: which methods are accepted, and the
// verification of an enveloped signature against the account's
// certificates. The checks before goxmldsig runs are in sigcheck.go; raw
// ECDSA signature values in ecdsa.go.

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
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
// verification, so that SHA-1 is refused with its own code (and a clear
// fix) rather than surfacing later as a generic signature error.
func checkAlgorithms(root *etree.Element, allowSHA1 bool) error {
	for _, sig := range descendants(root, nsDSig, "Signature") {
		si := firstChild(sig, nsDSig, "SignedInfo")
		if si == nil {
			continue // goxmldsig reports the broken shape
		}
		if m := firstChild(si, nsDSig, "SignatureMethod"); m != nil {
			alg := m.SelectAttrValue("Algorithm", "")
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
			if dm := firstChild(ref, nsDSig, "DigestMethod"); dm != nil {
				alg := dm.SelectAttrValue("Algorithm", "")
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

type sigResult struct {
	method      string
	fingerprint string
}

// verifySignature verifies the enveloped signature that references el,
// trying each trusted certificate on its own (goxmldsig can pick among
// several only when the signature carries KeyInfo; trying each one also
// serves IdPs that omit KeyInfo during a certificate rollover). It returns
// the verified element as re-parsed from the signed bytes.
func (v *Verifier) verifySignature(el *etree.Element, now time.Time) (*etree.Element, sigResult, error) {
	clock := dsig.NewFakeClockAt(now)
	el, sig := normalizedCopy(el)
	if sig == nil {
		// goxmldsig would walk the whole tree (copying the namespace
		// bindings at each element) to reach the same answer; an unsigned
		// Response with a large Extensions or Advice costs that walk for
		// nothing. referencingSignature selects as goxmldsig does
		// (sigcheck.go), so the answer is the same.
		return nil, sigResult{}, dsig.ErrMissingSignature
	}
	facts := factsFor(sig)
	var best error
	for _, cert := range v.certs {
		if e := precheckCert(facts, cert, now); e != nil {
			if best == nil || sigErrRank(e) > sigErrRank(best) {
				best = e
			}
			continue
		}
		ctx := &dsig.ValidationContext{
			CertificateStore: &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}},
			IdAttribute:      dsig.DefaultIdAttr,
			Clock:            clock,
		}
		out, err := ctx.Validate(el)
		if err == nil {
			sum := sha256.Sum256(cert.Raw)
			return out, sigResult{method: signatureMethodOf(el), fingerprint: hex.EncodeToString(sum[:])}, nil
		}
		if errors.Is(err, dsig.ErrMissingSignature) {
			return nil, sigResult{}, err
		}
		e := classifySigError(err)
		if best == nil || sigErrRank(e) > sigErrRank(best) {
			best = e
		}
	}
	return nil, sigResult{}, best
}

// verifyDetached verifies an element nested in a document (the Assertion)
// after detaching a copy that carries the namespace declarations of its
// ancestors, as exclusive c14n sees it.
func (v *Verifier) verifyDetached(el *etree.Element, now time.Time) (*etree.Element, sigResult, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, sigResult{}, Errorf(CodeMalformedResponse, "assertion namespaces: %v", err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, sigResult{}, Errorf(CodeMalformedResponse, "assertion namespaces: %v", err)
	}
	return v.verifySignature(detached, now)
}

// sigErrRank orders failures by how much they tell the admin: a document
// too complex for the verifier beats everything (no certificate can help),
// a trusted certificate that is expired beats a bad signature, which beats
// "not our certificate" (the usual answer for the other certificates
// tried).
func sigErrRank(err error) int {
	switch CodeOf(err) {
	case CodeResponseTooComplex:
		return 4
	case CodeCertificateExpired:
		return 3
	case CodeSignatureInvalid:
		return 2
	default:
		return 1
	}
}

func signatureMethodOf(el *etree.Element) string {
	sig := firstChild(el, nsDSig, "Signature")
	if sig == nil {
		return ""
	}
	if si := firstChild(sig, nsDSig, "SignedInfo"); si != nil {
		if m := firstChild(si, nsDSig, "SignatureMethod"); m != nil {
			return m.SelectAttrValue("Algorithm", "")
		}
	}
	return ""
}

func hasSignatureChild(el *etree.Element) bool { return firstChild(el, nsDSig, "Signature") != nil }
