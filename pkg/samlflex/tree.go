package samlflex

// Tree helpers: reading elements, text and times from an etree document
// strictly (text only, no comments, one element where one is expected).

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// descendants returns every element below root with the namespace and tag,
// in document order: a plain walk of the tree.
func descendants(root *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		for _, t := range e.Child {
			c, ok := t.(*etree.Element)
			if !ok {
				continue
			}
			if c.Tag == tag && namespaceOf(c) == ns {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

// textOnly returns an element's text: all its character data, with any
// comment between the pieces left out, as XPath's string-value and the
// canonical form without comments (what the IdP signed) have it. etree's
// Text() stops at the first comment, which is how
// "admin@corp.com<!---->.evil.com" would be read as "admin@corp.com"
// (CVE-2017-11427 and kin). A child element or processing instruction is
// refused: these are text-only values.
func textOnly(e *etree.Element) (string, error) {
	if len(e.Child) == 1 {
		if cd, ok := e.Child[0].(*etree.CharData); ok {
			return cd.Data, nil
		}
	}
	var b strings.Builder
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		case *etree.Comment:
		default:
			return "", Errorf(CodeMalformedResponse, "element %s holds markup where only text is allowed", e.Tag)
		}
	}
	return b.String(), nil
}

func childText(e *etree.Element, ns, tag string, required bool) (string, error) {
	els := childElems(e, ns, tag)
	switch {
	case len(els) == 0 && !required:
		return "", nil
	case len(els) != 1:
		return "", Errorf(CodeMalformedResponse, "%s has %d %s elements, want 1", e.Tag, len(els), tag)
	}
	t, err := textOnly(els[0])
	return strings.TrimSpace(t), err
}

// namespaceOf returns e's namespace URI: the binding of its prefix (or the
// default namespace) on the nearest ancestor-or-self that declares it.
// parseXML puts an element's namespace declarations before its other
// attributes, so the scan of each ancestor stops at its first attribute
// that is not one: a lookup costs the depth plus the declarations in scope
// (at most maxXMLDepth + maxNSInScope). etree's NamespaceURI reads every
// attribute of every ancestor; an unsigned 30 KB response of 830 elements
// under 28 ancestors of 32 attributes each cost 11 ms with it, about 50
// valid verifications (BenchmarkNamespaceWalk). TestNoLaxAttributeLookup
// keeps NamespaceURI out of the package.
func namespaceOf(e *etree.Element) string {
	for el := e; el != nil; el = el.Parent() {
		for i := range el.Attr {
			a := &el.Attr[i]
			if !isNSDecl(a) {
				break
			}
			if (e.Space == "" && a.Space == "" && a.Key == "xmlns") || (e.Space != "" && a.Space == "xmlns" && a.Key == e.Space) {
				return a.Value
			}
		}
	}
	return ""
}

// attrValue returns the value of e's unqualified attribute name, "" when it
// has none. Every SAML and XML-DSig attribute samlflex reads is
// unqualified. etree's SelectAttrValue must never be used on a response:
// it matches the local name under any prefix, so it also answers with a
// namespace declaration xmlns:name="...", which exclusive c14n leaves out
// of the signed bytes when nothing uses it. An attacker could add
// xmlns:Name="roles" before Name="full_name" in a signed response and
// change what was read without touching the signature
// (TestUnusedDeclarationNamedLikeAnAttribute; TestNoLaxAttributeLookup
// keeps SelectAttr out of this package).
func attrValue(e *etree.Element, name string) string {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == name {
			return a.Value
		}
	}
	return ""
}

func timeAttr(e *etree.Element, name string, required bool) (time.Time, error) {
	v := attrValue(e, name)
	if v == "" {
		if required {
			return time.Time{}, Errorf(CodeMalformedResponse, "%s has no %s", e.Tag, name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		// time's error quotes the whole value: name it, cut, instead.
		return time.Time{}, Errorf(CodeMalformedResponse, "%s/@%s is not a dateTime: %q", e.Tag, name, v)
	}
	return t.UTC(), nil
}

func isElem(e *etree.Element, ns, tag string) bool {
	return e != nil && e.Tag == tag && namespaceOf(e) == ns
}

func firstChild(e *etree.Element, ns, tag string) *etree.Element {
	for _, c := range e.ChildElements() {
		if isElem(c, ns, tag) {
			return c
		}
	}
	return nil
}

func childElems(e *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if isElem(c, ns, tag) {
			out = append(out, c)
		}
	}
	return out
}

func describe(e *etree.Element) string {
	if e == nil {
		return "nothing"
	}
	return e.FullTag() + " in " + namespaceOf(e)
}
