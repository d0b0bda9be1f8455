package samlflex

// The one XML parse of a response: a single streaming pass of encoding/xml
// tokens (RawToken: no namespace translation, which is where encoding/xml's
// round-trip bugs lived) that enforces the bounds of limits.go before each
// element exists, refuses what SAML never needs, and builds the etree tree
// that everything else reads and that the signature check canonicalizes
// (c14n.go).
//
// Round-trip safety. The SAML bypasses of CVE-2020-29509/29510/29511 came
// from verifying one reading of a document and using another: goxmldsig
// verified a tree, serialized it, and parsed the bytes again with
// encoding/xml, whose namespace handling did not survive the trip. samlflex
// no longer serializes and re-parses: the tree built here is the tree the
// digest is computed over and the tree values are read from. What is left
// is to make the tree's names unambiguous, which this pass does on the same
// tokens:
//   - a name is a local name or prefix:local (encoding/xml refuses more
//     than one colon; a leading or trailing colon is refused here);
//   - every prefix an element or attribute uses is declared in scope
//     (xml excepted), and "xmlns" is never an element prefix;
//   - a declaration never binds xmlns, never rebinds xml, never binds a
//     prefix to "" (XML 1.1 undeclaration) and never binds the reserved
//     namespaces to another prefix;
//   - no element has two attributes with the same expanded name;
//   - no DTD, entity, processing instruction (the XML declaration aside),
//     or text outside the root; comments cannot hold "--".
// A fuzz test checks the result: for every document accepted here, the
// canonical form parses again to the same canonical form (FuzzParseC14N).

import (
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// parseXML parses raw into a tree within the bounds of limits.go.
func parseXML(raw []byte) (*etree.Document, error) {
	if !utf8.Valid(raw) {
		return nil, Errorf(CodeMalformedResponse, "response is not UTF-8")
	}
	in := &tokenBudget{raw: raw}
	d := xml.NewDecoder(in)
	d.Strict = true
	type open struct {
		el       *etree.Element
		name     xml.Name
		bindings int // len(bindings) before this element's declarations
	}
	var (
		doc      = etree.NewDocument()
		stack    = make([]open, 0, maxXMLDepth)
		bindings = make([]binding, 0, maxNSInScope)
		elements = 0
		tokens   = 0
	)
	for {
		in.start = int(d.InputOffset())
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errTokenTooLong) {
			return nil, tokenTooLong(raw[in.start:in.pos])
		}
		if err != nil {
			return nil, Errorf(CodeMalformedResponse, "XML does not parse: %v", err)
		}
		tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxXMLElements {
				return nil, tooComplex(limitElements, "more than %d elements (at byte %d)", maxXMLElements, d.InputOffset())
			}
			if len(stack) >= maxXMLDepth {
				return nil, tooComplex(limitDepth, "element nested deeper than %d levels", maxXMLDepth)
			}
			if len(stack) == 0 && doc.Root() != nil {
				return nil, Errorf(CodeMalformedResponse, "XML has more than one root element")
			}
			mark := len(bindings)
			for _, a := range t.Attr {
				if len(a.Value) > maxTextBytes {
					return nil, tooComplex(limitText, "an attribute value is %d bytes, limit %d", len(a.Value), maxTextBytes)
				}
				if prefix, ok := declaredPrefix(a.Name.Space, a.Name.Local); ok {
					if err := checkDeclaration(prefix, a.Value); err != nil {
						return nil, err
					}
					// Counted per declaration, not per distinct prefix: an
					// upper bound of the bindings in scope.
					bindings = append(bindings, binding{prefix, a.Value})
				}
			}
			if len(bindings) > maxNSInScope {
				return nil, tooComplex(limitNamespaces, "%d namespace declarations in scope at one element, limit %d", len(bindings), maxNSInScope)
			}
			if len(t.Attr) > maxAttrsPerElement {
				return nil, tooComplex(limitAttributes, "an element has %d attributes, limit %d", len(t.Attr), maxAttrsPerElement)
			}
			if err := checkName(t.Name, bindings, true); err != nil {
				return nil, err
			}
			el := etree.NewElement(t.Name.Local)
			el.Space = t.Name.Space
			if len(t.Attr) > 0 {
				el.Attr = make([]etree.Attr, 0, len(t.Attr))
			}
			for i, a := range t.Attr {
				if _, decl := declaredPrefix(a.Name.Space, a.Name.Local); !decl {
					if err := checkName(a.Name, bindings, false); err != nil {
						return nil, err
					}
				}
				for _, b := range t.Attr[:i] {
					if sameAttr(a.Name, b.Name, bindings) {
						return nil, Errorf(CodeMalformedResponse, "element %s repeats attribute %s", truncateDetail(el.FullTag()), truncateDetail(a.Name.Local))
					}
				}
				key := a.Name.Local
				if a.Name.Space != "" {
					key = a.Name.Space + ":" + a.Name.Local
				}
				el.CreateAttr(key, a.Value)
			}
			// Declarations first (exclusive c14n orders attributes itself,
			// and nothing reads them by position): namespaceOf stops at the
			// first attribute that is not one.
			slices.SortStableFunc(el.Attr, func(a, b etree.Attr) int {
				return cmpBool(!isNSDecl(&a), !isNSDecl(&b))
			})
			if len(stack) == 0 {
				doc.AddChild(el)
			} else {
				stack[len(stack)-1].el.AddChild(el)
			}
			stack = append(stack, open{el: el, name: t.Name, bindings: mark})
		case xml.EndElement:
			// RawToken does not pair tags; pairing them here keeps the
			// depth and namespace counts honest for the next element.
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return nil, Errorf(CodeMalformedResponse, "XML does not parse: unexpected end element")
			}
			bindings = bindings[:stack[len(stack)-1].bindings]
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(t) > maxTextBytes {
				return nil, tooComplex(limitText, "a text node is %d bytes, limit %d", len(t), maxTextBytes)
			}
			if len(stack) == 0 {
				if strings.TrimLeft(string(t), " \t\r\n") != "" {
					return nil, Errorf(CodeMalformedResponse, "XML has text outside the root element")
				}
				continue
			}
			stack[len(stack)-1].el.CreateText(string(t))
		case xml.Comment:
			if len(t) > maxTextBytes {
				return nil, tooComplex(limitText, "a comment is %d bytes, limit %d", len(t), maxTextBytes)
			}
			if strings.Contains(string(t), "--") || strings.HasSuffix(string(t), "-") {
				return nil, Errorf(CodeMalformedResponse, "XML does not parse: a comment holds \"--\"")
			}
			if len(stack) > 0 {
				stack[len(stack)-1].el.CreateComment(string(t))
			}
		case xml.ProcInst:
			// encoding/xml has checked the declaration's version and
			// encoding; anything else is an instruction to someone else.
			if t.Target != "xml" || tokens != 1 {
				return nil, Errorf(CodeMalformedResponse, "processing instruction %q is not accepted", truncateDetail(t.Target))
			}
		case xml.Directive:
			return nil, Errorf(CodeMalformedResponse, "document type declarations and entities are not accepted")
		}
	}
	if doc.Root() == nil || len(stack) != 0 {
		return nil, Errorf(CodeMalformedResponse, "XML does not parse: no root element or unclosed elements")
	}
	return doc, nil
}

// checkDeclaration refuses the declarations Namespaces in XML 1.0 section 3
// forbids, and XML 1.1's undeclaration of a prefix.
func checkDeclaration(prefix, uri string) error {
	bad := ""
	switch {
	case strings.Contains(prefix, ":"):
		bad = "a malformed prefix"
	case prefix == "xmlns":
		bad = "the xmlns prefix"
	case prefix == "xml" && uri != nsXML:
		bad = "the xml prefix to another namespace"
	case prefix != "xml" && uri == nsXML, uri == nsXMLNS:
		bad = "a reserved namespace"
	case prefix != "" && uri == "":
		bad = "a prefix to no namespace"
	}
	if bad != "" {
		return Errorf(CodeMalformedResponse, "XML namespace declaration binds %s (xmlns:%s=%q)", bad, truncateDetail(prefix), truncateDetail(uri))
	}
	return nil
}

// checkName refuses a name that is not NCName or NCName:NCName and a
// prefix that is not declared in scope.
func checkName(n xml.Name, bindings []binding, element bool) error {
	if n.Local == "" || strings.Contains(n.Local, ":") {
		return Errorf(CodeMalformedResponse, "XML name %q is not a namespace-well-formed name", truncateDetail(n.Space+":"+n.Local))
	}
	switch n.Space {
	case "":
		return nil
	case "xml":
		if !element {
			return nil
		}
	case "xmlns":
	default:
		if _, ok := lookup(bindings, n.Space); ok {
			return nil
		}
		return Errorf(CodeMalformedResponse, "namespace prefix %q of %s is not declared", truncateDetail(n.Space), truncateDetail(n.Local))
	}
	return Errorf(CodeMalformedResponse, "XML element %s:%s uses a reserved prefix", n.Space, truncateDetail(n.Local))
}

// sameAttr reports whether two attribute names of one element have the same
// expanded name (the same local name and the same namespace, whatever the
// prefixes).
func sameAttr(a, b xml.Name, bindings []binding) bool {
	if a.Local != b.Local {
		return false
	}
	if a.Space == b.Space {
		return true
	}
	if a.Space == "" || b.Space == "" || a.Space == "xmlns" || b.Space == "xmlns" {
		return false
	}
	return attrNamespace(a.Space, bindings) == attrNamespace(b.Space, bindings)
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
