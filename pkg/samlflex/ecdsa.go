package samlflex

import (
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"

	"github.com/beevik/etree"
)

// normalizeECDSASignature rewrites the ECDSA SignatureValue of one
// ds:Signature from the XML-DSig form (the raw concatenation r||s, RFC 4050
// 3.3 and RFC 6931 2.3.6, which xmlsec1, Shibboleth and ADFS emit) into the
// ASN.1 DER form that goxmldsig hands to crypto/x509. Without it no standard
// ECDSA signature verifies. The SignatureValue is not covered by its own
// signature's digest (SignedInfo is what is signed), so this changes the
// encoding of the value, never what it proves: a wrong value still fails
// verification. It is covered by the digest of an enclosing signature, so
// it is only ever applied to the copy being verified (normalizedCopy).
func normalizeECDSASignature(sig *etree.Element) {
	sv, der, ok := ecdsaDER(sig)
	if ok {
		sv.SetText(base64.StdEncoding.EncodeToString(der))
	}
}

// needsECDSANormalization reports whether sig is an ECDSA signature whose
// value is in the r||s form.
func needsECDSANormalization(sig *etree.Element) bool {
	_, _, ok := ecdsaDER(sig)
	return ok
}

// ecdsaDER returns sig's SignatureValue element and its value converted to
// DER, when sig is ECDSA and the value is r||s.
func ecdsaDER(sig *etree.Element) (*etree.Element, []byte, bool) {
	si := firstChild(sig, nsDSig, "SignedInfo")
	sv := firstChild(sig, nsDSig, "SignatureValue")
	if si == nil || sv == nil {
		return nil, nil, false
	}
	m := firstChild(si, nsDSig, "SignatureMethod")
	if m == nil || !strings.Contains(m.SelectAttrValue("Algorithm", ""), "#ecdsa-") {
		return nil, nil, false
	}
	text, err := textOnly(sv)
	if err != nil {
		return nil, nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	if err != nil {
		return nil, nil, false
	}
	der, ok := rawECDSAToDER(raw)
	return sv, der, ok
}

// rawECDSAToDER converts r||s for P-256, P-384 or P-521 to DER. A value that
// already is exactly one DER SEQUENCE of two INTEGERs is left alone.
func rawECDSAToDER(raw []byte) ([]byte, bool) {
	switch len(raw) {
	case 64, 96, 132:
	default:
		return nil, false
	}
	var parsed struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(raw, &parsed); err == nil && len(rest) == 0 {
		return nil, false
	}
	half := len(raw) / 2
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		R: new(big.Int).SetBytes(raw[:half]),
		S: new(big.Int).SetBytes(raw[half:]),
	})
	return der, err == nil
}
