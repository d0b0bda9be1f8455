package samlflex

import (
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"

	"github.com/beevik/etree"
)

// normalizeECDSASignatures rewrites ECDSA SignatureValues from the XML-DSig
// form (the raw concatenation r||s, RFC 4050 3.3 and RFC 6931 2.3.6, which
// xmlsec1, Shibboleth and ADFS emit) into the ASN.1 DER form that
// goxmldsig hands to crypto/x509. Without it no standard ECDSA signature
// verifies. The SignatureValue is not covered by the digest (SignedInfo
// is what is signed), so this changes the encoding of the value, never
// what it proves: a wrong value still fails verification.
func normalizeECDSASignatures(root *etree.Element) {
	for _, sig := range descendants(root, nsDSig, "Signature") {
		si := firstChild(sig, nsDSig, "SignedInfo")
		sv := firstChild(sig, nsDSig, "SignatureValue")
		if si == nil || sv == nil {
			continue
		}
		m := firstChild(si, nsDSig, "SignatureMethod")
		if m == nil || !strings.Contains(m.SelectAttrValue("Algorithm", ""), "#ecdsa-") {
			continue
		}
		text, err := textOnly(sv)
		if err != nil {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
		if err != nil {
			continue
		}
		if der, ok := rawECDSAToDER(raw); ok {
			sv.SetText(base64.StdEncoding.EncodeToString(der))
		}
	}
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
