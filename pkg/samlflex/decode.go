package samlflex

// XML decoding: the base64 form value and the one hardened parse. The
// bounds on the work it may do are in limits.go; the schema shape it must
// have is in structure.go.

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// decodeBase64 accepts standard base64 with or without line breaks (some
// IdPs wrap at 76 columns; the decoder skips \r and \n).
func decodeBase64(encoded []byte) ([]byte, error) {
	encoded = bytes.TrimSpace(encoded)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(encoded)))
	n, err := base64.StdEncoding.Decode(out, encoded)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// parseXML parses the response once, after the bounded streaming pass
// (prescan: size limits), and rejects DTDs, entity
// declarations, processing instructions other than the XML declaration and
// duplicate attributes.
func parseXML(raw []byte) (*etree.Document, error) {
	if !utf8.Valid(raw) {
		return nil, Errorf(CodeMalformedResponse, "response is not UTF-8")
	}
	// Bounds, streaming, before any tree exists (limits.go).
	if err := prescan(raw); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{PreserveDuplicateAttrs: true, MaxDepth: maxXMLDepth}
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, Errorf(CodeMalformedResponse, "XML does not parse: %v", err)
	}
	if doc.Root() == nil {
		return nil, Errorf(CodeMalformedResponse, "XML has no root element")
	}
	var walk func(tokens []etree.Token, top bool) error
	walk = func(tokens []etree.Token, top bool) error {
		for _, t := range tokens {
			switch t := t.(type) {
			case *etree.Directive:
				return Errorf(CodeMalformedResponse, "document type declarations and entities are not accepted")
			case *etree.ProcInst:
				if !top || t.Target != "xml" {
					return Errorf(CodeMalformedResponse, "processing instruction %q is not accepted", t.Target)
				}
			case *etree.Element:
				seen := make(map[string]struct{}, len(t.Attr))
				for _, a := range t.Attr {
					k := a.Space + ":" + a.Key
					if _, dup := seen[k]; dup {
						return Errorf(CodeMalformedResponse, "element %s repeats attribute %s", t.Tag, a.Key)
					}
					seen[k] = struct{}{}
				}
				if err := walk(t.Child, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(doc.Child, true); err != nil {
		return nil, err
	}
	return doc, nil
}
