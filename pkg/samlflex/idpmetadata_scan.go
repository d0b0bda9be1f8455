package samlflex

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/russellhaering/gosaml2/types"
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
	// parents holds the names of the open elements, to place
	// EntityDescriptor (below).
	var parents []xml.Name
	readNames := metadataAttrNames()
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
				// encoding/xml gives a struct field tagged "use,attr" any
				// attribute named use, whatever its prefix, xmlns:use
				// included, and the last one wins: x:use="signing" after
				// use="encryption" made an encryption key a trusted
				// signing certificate, and xmlns:entityID replaced the
				// entityID that the admin sees.
				if a.Name.Space != "" && readNames[a.Name.Local] {
					return "", metadataError("An element of the IdP metadata carries a prefixed attribute or namespace declaration named like one samlflex reads, so what samlflex reads could differ from what other tools show. Download the metadata again; save the file as downloaded, without editing it.",
						"<%s> has %s:%s", truncateDetail(t.Name.Local), truncateDetail(a.Name.Space), truncateDetail(a.Name.Local))
				}
			}
			// An EntityDescriptor is the root or a child of an
			// EntitiesDescriptor: encoding/xml ignores one nested anywhere
			// else, but it reset the IDPSSODescriptor count below, and a
			// second IDPSSODescriptor was merged into the first.
			if t.Name.Space == mdNamespace && t.Name.Local == "EntityDescriptor" && len(parents) > 0 {
				if p := parents[len(parents)-1]; p.Space != mdNamespace || p.Local != "EntitiesDescriptor" {
					return "", metadataError("The IdP metadata has an EntityDescriptor inside another element than an EntitiesDescriptor, which SAML metadata does not allow. Download the metadata again; save the file as downloaded, without editing it.",
						"<EntityDescriptor> inside <%s>", truncateDetail(p.Local))
				}
			}
			parents = append(parents, t.Name)
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
			parents = parents[:len(parents)-1]
		}
	}
	if root == "" {
		return "", metadataError("The IdP metadata is empty or not XML: it has no XML element.", "no root element")
	}
	return root, nil
}

// metadataAttrNames returns the local name of every attribute that
// ParseIdPMetadata's decoding reads: the ",attr" fields of gosaml2's
// metadata types, found by walking them, so that a field a gosaml2
// upgrade adds is covered.
func metadataAttrNames() map[string]bool {
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("xml")
			if name, opts, _ := strings.Cut(tag, ","); strings.Contains(","+opts+",", ",attr,") {
				if _, local, ok := strings.Cut(name, " "); ok {
					name = local
				}
				if name == "" {
					name = f.Name
				}
				names[name] = true
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[types.EntityDescriptor]())
	walk(reflect.TypeFor[entitiesDescriptor]())
	return names
}
