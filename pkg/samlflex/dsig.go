package samlflex

// Verification of an enveloped XML signature (XML-DSig core 3.2, as the
// SAML 2.0 profile restricts it: one Reference, enveloped-signature then
// exclusive c14n) against the account's certificates, on the tree parseXML
// built, without copying or re-parsing it.
//
// What a verified element proves: the SignedInfo read from the tree,
// canonicalized, verifies under a trusted certificate's key; the element
// read from the same tree, canonicalized without the signature, has the
// digest that SignedInfo names. Values are then read from that element:
// see c14n.go for why the canonical form covers every one of them.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA-1 only when the account allows it (checkAlgorithms)
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"hash"
	"math/big"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// errMissingSignature: no signature references the element.
var errMissingSignature = errors.New("no signature references the element")

type sigResult struct {
	method      string
	fingerprint string
}

// methodHash is the hash of each signature method samlflex verifies, and
// digestHash that of each digest method (checkAlgorithms decides which are
// allowed for an account: SHA-1 only on request).
var (
	methodHash = map[string]crypto.Hash{
		dsig.RSASHA1SignatureMethod:     crypto.SHA1,
		dsig.RSASHA256SignatureMethod:   crypto.SHA256,
		dsig.RSASHA384SignatureMethod:   crypto.SHA384,
		dsig.RSASHA512SignatureMethod:   crypto.SHA512,
		dsig.ECDSASHA1SignatureMethod:   crypto.SHA1,
		dsig.ECDSASHA256SignatureMethod: crypto.SHA256,
		dsig.ECDSASHA384SignatureMethod: crypto.SHA384,
		dsig.ECDSASHA512SignatureMethod: crypto.SHA512,
	}
	digestHash = map[string]crypto.Hash{
		sha1Digest: crypto.SHA1,
		"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
		"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
	}
)

// ecdsaMethods are the signature methods whose key must be ECDSA.
var ecdsaMethods = map[string]bool{
	dsig.ECDSASHA1SignatureMethod: true, dsig.ECDSASHA256SignatureMethod: true,
	dsig.ECDSASHA384SignatureMethod: true, dsig.ECDSASHA512SignatureMethod: true,
}

func newHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA1:
		return sha1.New() //nolint:gosec // see the import
	case crypto.SHA256:
		return sha256.New()
	case crypto.SHA384:
		return sha512.New384()
	default:
		return sha512.New()
	}
}

func digestOf(h crypto.Hash, b []byte) []byte {
	w := newHash(h)
	w.Write(b)
	return w.Sum(nil)
}

// verifySignature verifies the enveloped signature that references el,
// trying each trusted certificate on its own (an IdP may omit KeyInfo, also
// during a certificate rollover). It returns el itself, now known to be
// covered by the signature. The failure reported when every certificate
// fails is the most telling one (sigErrRank).
func (v *Verifier) verifySignature(el *etree.Element, now time.Time) (*etree.Element, sigResult, error) {
	sig := referencingSignature(el)
	if sig == nil {
		return nil, sigResult{}, errMissingSignature
	}
	p, err := readSignature(sig)
	if err != nil {
		return nil, sigResult{}, err
	}
	sigH, ok1 := methodHash[p.method]
	refH, ok2 := digestHash[p.digestAlg]
	if !ok1 || !ok2 {
		return nil, sigResult{}, Errorf(CodeUnsupportedAlgorithm, "signature method %q, digest method %q", truncateDetail(p.method), truncateDetail(p.digestAlg))
	}
	// SignedInfo first: it is small, so a forged signature costs one
	// public-key operation and no canonicalization of the whole element.
	signedInfo, err := excC14N(nil, p.signedInfo, p.c14n)
	if err != nil {
		return nil, sigResult{}, err
	}
	signedDigest := digestOf(sigH, signedInfo)
	var best error
	for _, cert := range v.certs {
		err := checkCert(p, cert, now)
		if err == nil {
			err = checkPublicKey(cert, p.method, sigH, signedDigest, p.value)
		}
		if err == nil {
			if err := checkDigest(el, sig, p, refH); err != nil {
				return nil, sigResult{}, err
			}
			sum := sha256.Sum256(cert.Raw)
			return el, sigResult{method: p.method, fingerprint: hex.EncodeToString(sum[:])}, nil
		}
		if best == nil || sigErrRank(err) > sigErrRank(best) {
			best = err
		}
	}
	return nil, sigResult{}, best
}

// checkDigest canonicalizes el without its enveloped signature and
// compares the digest with the one SignedInfo names.
func checkDigest(el, sig *etree.Element, p *sigParts, h crypto.Hash) error {
	opt := p.refC14N
	opt.skip = sig
	canonical, err := excC14N(make([]byte, 0, 8<<10), el, opt)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(digestOf(h, canonical), p.digest) != 1 {
		return Errorf(CodeSignatureInvalid, "signature does not verify: the digest of the signed element differs (changed after signing)")
	}
	return nil
}

// checkPublicKey verifies the signature value over the SignedInfo digest
// with cert's key.
func checkPublicKey(cert *x509.Certificate, method string, h crypto.Hash, digest, value []byte) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if ecdsaMethods[method] {
			break
		}
		if rsa.VerifyPKCS1v15(pub, h, digest, value) == nil {
			return nil
		}
		return Errorf(CodeSignatureInvalid, "signature does not verify: the RSA signature value does not match SignedInfo with the trusted key")
	case *ecdsa.PublicKey:
		if !ecdsaMethods[method] {
			break
		}
		if verifyECDSA(pub, digest, value) {
			return nil
		}
		return Errorf(CodeSignatureInvalid, "signature does not verify: the ECDSA signature value does not match SignedInfo with the trusted key")
	}
	return Errorf(CodeSignatureInvalid, "signature does not verify: method %s does not fit the trusted certificate's %T key", method, cert.PublicKey)
}

// verifyECDSA checks an ECDSA SignatureValue in the XML-DSig form, the raw
// concatenation r||s (RFC 4050 3.3, RFC 6931 2.3.6: xmlsec1, Shibboleth and
// ADFS emit it), or as one ASN.1 DER SEQUENCE, which some signers emit.
func verifyECDSA(pub *ecdsa.PublicKey, digest, value []byte) bool {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(value) == 2*size {
		r := new(big.Int).SetBytes(value[:size])
		s := new(big.Int).SetBytes(value[size:])
		if ecdsa.Verify(pub, digest, r, s) {
			return true
		}
	}
	return ecdsa.VerifyASN1(pub, digest, value)
}

// sigErrRank orders failures by how much they tell the admin: a trusted
// certificate that is expired beats a bad signature, which beats "not our
// certificate" (the usual answer for the other certificates tried).
func sigErrRank(err error) int {
	switch CodeOf(err) {
	case CodeCertificateExpired:
		return 3
	case CodeSignatureInvalid:
		return 2
	default:
		return 1
	}
}

func hasSignatureChild(el *etree.Element) bool { return firstChild(el, nsDSig, "Signature") != nil }
