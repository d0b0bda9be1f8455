package samlflex

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Bounds on the XML work of an IdP metadata import. They are generous for
// one IdP (Salesforce's metadata has 15 elements, 7 levels deep) and are
// not the response limits (limits.go): metadata is read once, from an
// admin, not on every login from the internet.
const (
	maxMetadataDepth    = 32
	maxMetadataElements = 20000
)

// scanMetadata bounds the XML work before the document is decoded into
// gosaml2's types, and returns the local name of the root element. Like
// the response verifier it refuses DTDs: no entity is ever declared, so
// none can expand (billion laughs) or reach a file or URL (XXE), whichever
// XML library later reads the text.
func scanMetadata(raw []byte) (string, error) {
	if len(raw) > MaxIdPMetadataBytes {
		return "", metadataError(fmt.Sprintf("The IdP metadata is larger than samlflex accepts (%d bytes). Save the identity provider's own EntityDescriptor, not a whole federation's metadata.", MaxIdPMetadataBytes),
			"%d bytes", len(raw))
	}
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	root := ""
	depth, elements := 0, 0
	// roles counts the IDPSSODescriptors of the EntityDescriptor being
	// read: gosaml2's type holds one, and encoding/xml would silently merge
	// a second one's keys and endpoints into it.
	roles := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", metadataError("The IdP metadata is not well-formed XML. Download it again; save the file as downloaded, without editing it.",
				"XML does not parse: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(t)), []byte("doctype html")) {
				return "", metadataError("This is an HTML page, not SAML metadata: the address may lead to a login page. Download the metadata as a file, or give the metadata URL itself.",
					"<!DOCTYPE html>")
			}
			return "", metadataError("The IdP metadata contains a document type declaration (DTD), which samlflex refuses because DTDs can declare entities that expand or read files. Metadata needs none: remove the <!DOCTYPE ...> part.",
				"<!%s>", truncateDetail(string(t)))
		case xml.StartElement:
			if depth == 0 && root != "" {
				// encoding/xml reads the first root and ignores the rest;
				// a second one is no metadata shape.
				return "", metadataError("The IdP metadata is not well-formed XML. Download it again; save the file as downloaded, without editing it.",
					"a second root element <%s>", truncateDetail(t.Name.Local))
			}
			// A repeated attribute (two entityIDs, two Locations) is read
			// one way by encoding/xml and maybe another by the tool the
			// admin inspected the file with; neither is guessed.
			// (A map, not a double loop: the size cap alone would allow
			// an element with 100,000 attributes.)
			seen := make(map[xml.Name]struct{}, len(t.Attr))
			for _, a := range t.Attr {
				if _, dup := seen[a.Name]; dup {
					return "", metadataError("An element of the IdP metadata repeats an XML attribute, so its value is ambiguous. Download the metadata again; save the file as downloaded, without editing it.",
						"<%s> repeats attribute %s", truncateDetail(t.Name.Local), truncateDetail(a.Name.Local))
				}
				seen[a.Name] = struct{}{}
			}
			elements++
			depth++
			if elements > maxMetadataElements || depth > maxMetadataDepth {
				return "", metadataError(fmt.Sprintf("The IdP metadata has more XML elements, or nests them deeper, than samlflex accepts (%d elements, %d levels).", maxMetadataElements, maxMetadataDepth),
					"%d elements, depth %d", elements, depth)
			}
			if root == "" {
				if t.Name.Space != mdNamespace || (t.Name.Local != "EntityDescriptor" && t.Name.Local != "EntitiesDescriptor") {
					return "", metadataError("This is not SAML 2.0 metadata: the document must start with an md:EntityDescriptor or md:EntitiesDescriptor element.",
						"root element {%s}%s", truncateDetail(t.Name.Space), truncateDetail(t.Name.Local))
				}
				root = t.Name.Local
			}
			if t.Name.Space == mdNamespace {
				switch t.Name.Local {
				case "EntityDescriptor":
					roles = 0
				case "IDPSSODescriptor":
					if roles++; roles > 1 {
						return "", metadataError("An entity in the IdP metadata has several IDPSSODescriptor elements; samlflex reads one. Keep the one for SAML 2.0.",
							"%d IDPSSODescriptor elements in one EntityDescriptor", roles)
					}
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if root == "" {
		return "", metadataError("The IdP metadata is empty or not XML: it has no XML element.", "no root element")
	}
	return root, nil
}
