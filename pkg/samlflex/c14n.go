package samlflex

// Exclusive XML Canonicalization 1.0 (https://www.w3.org/TR/xml-exc-c14n/),
// written straight from the parsed tree into a byte slice: the signed
// element is neither copied nor re-parsed. It is the only canonicalization
// samlflex verifies with (SAML 2.0 core 5.4.3 and every IdP we know sign with
// it); Inclusive C14N is refused as an unsupported algorithm.
//
// What the canonical form drops is what the tree may hold without the
// signature covering it: comments (without the #WithComments variant), the
// enveloped Signature element, namespace declarations that nothing in the
// element visibly uses, the order of attributes, quoting and whitespace
// inside tags. Nothing samlflex reads is among them (textOnly refuses
// comments inside values), and the writer is injective on the rest: every
// name is written as parsed, with a prefix that parseXML checked is bound,
// and every value is escaped. So the values read from the tree are the values
// the signer canonicalized.

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
)

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"

	algExcC14N             = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algExcC14NWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
	algEnvelopedSignature  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// binding is one namespace prefix bound to a URI ("" is the default
// namespace).
type binding struct{ prefix, uri string }

// c14nOptions selects the variant and the parts of the tree left out.
type c14nOptions struct {
	// comments keeps comments (#WithComments).
	comments bool
	// inclusive is the InclusiveNamespaces PrefixList: prefixes rendered
	// wherever they are in scope and not yet rendered, as in inclusive
	// c14n ("" stands for #default).
	inclusive []string
	// skip is left out with its subtree (the enveloped-signature
	// transform).
	skip *etree.Element
}

// canonicalizer holds the namespace state of one canonicalization.
type canonicalizer struct {
	opt      c14nOptions
	out      []byte
	inScope  []binding // bindings in scope, innermost last
	rendered []binding // bindings rendered by output ancestors, innermost last
	nsBuf    []binding
	attrBuf  []c14nAttr
}

type c14nAttr struct {
	uri string
	a   *etree.Attr
}

// excC14N appends the exclusive canonical form of el (with the namespaces
// its ancestors bind in scope, as in a document subset) to dst.
func excC14N(dst []byte, el *etree.Element, opt c14nOptions) ([]byte, error) {
	c := &canonicalizer{opt: opt, out: dst, inScope: ancestorBindings(el)}
	if err := c.element(el); err != nil {
		return dst, err
	}
	return c.out, nil
}

// ancestorBindings returns the namespace bindings that el's ancestors put in
// scope at el, outermost first (so that a lookup from the end finds the
// innermost).
func ancestorBindings(el *etree.Element) []binding {
	var chain []*etree.Element
	for p := el.Parent(); p != nil; p = p.Parent() {
		chain = append(chain, p)
	}
	var out []binding
	for i := len(chain) - 1; i >= 0; i-- {
		out = appendDecls(out, chain[i])
	}
	return out
}

// appendDecls appends the namespace declarations of e.
func appendDecls(dst []binding, e *etree.Element) []binding {
	for _, a := range e.Attr {
		if prefix, ok := declaredPrefix(a.Space, a.Key); ok {
			dst = append(dst, binding{prefix, a.Value})
		}
	}
	return dst
}

// declaredPrefix reports whether the attribute space:local is a namespace
// declaration, and the prefix it binds ("" for the default namespace).
func declaredPrefix(space, local string) (string, bool) {
	switch {
	case space == "xmlns":
		return local, true
	case space == "" && local == "xmlns":
		return "", true
	}
	return "", false
}

func isNSDecl(a *etree.Attr) bool {
	_, ok := declaredPrefix(a.Space, a.Key)
	return ok
}

// attrNamespace is the namespace of an attribute with this prefix: none
// when unprefixed (the default namespace does not apply to attributes),
// XML's for xml, else the binding in scope ("" if there is none).
func attrNamespace(prefix string, bindings []binding) string {
	switch prefix {
	case "":
		return ""
	case "xml":
		return nsXML
	}
	uri, _ := lookup(bindings, prefix)
	return uri
}

func lookup(bs []binding, prefix string) (string, bool) {
	for i := len(bs) - 1; i >= 0; i-- {
		if bs[i].prefix == prefix {
			return bs[i].uri, true
		}
	}
	return "", false
}

func (c *canonicalizer) element(e *etree.Element) error {
	scopeMark, renderMark := len(c.inScope), len(c.rendered)
	c.inScope = appendDecls(c.inScope, e)

	// Namespace nodes to render: the prefixes e visibly utilizes (its own
	// and its attributes'; an unprefixed attribute has no namespace), and
	// the InclusiveNamespaces prefixes in scope. Each is rendered unless the
	// nearest output ancestor already rendered the same binding.
	ns := c.nsBuf[:0]
	consider := func(prefix string, mustBind bool) error {
		if prefix == "xml" {
			return nil // bound by definition, never declared
		}
		for _, b := range ns {
			if b.prefix == prefix {
				return nil
			}
		}
		uri, ok := lookup(c.inScope, prefix)
		if !ok && prefix != "" {
			if mustBind {
				return Errorf(CodeMalformedResponse, "namespace prefix %q is not declared", truncateDetail(prefix))
			}
			return nil
		}
		prev, done := lookup(c.rendered, prefix)
		if prefix == "" && !done {
			prev, done = "", true // no default namespace rendered: as xmlns=""
		}
		if done && prev == uri {
			return nil
		}
		ns = append(ns, binding{prefix, uri})
		return nil
	}
	if err := consider(e.Space, true); err != nil {
		return err
	}
	for i := range e.Attr {
		a := &e.Attr[i]
		if !isNSDecl(a) && a.Space != "" {
			if err := consider(a.Space, true); err != nil {
				return err
			}
		}
	}
	for _, p := range c.opt.inclusive {
		if err := consider(p, false); err != nil {
			return err
		}
	}
	slices.SortFunc(ns, func(a, b binding) int { return strings.Compare(a.prefix, b.prefix) })
	c.rendered = append(c.rendered, ns...)

	// Attributes sorted by namespace URI, then local name (unqualified
	// ones have no namespace, so they come first).
	attrs := c.attrBuf[:0]
	for i := range e.Attr {
		a := &e.Attr[i]
		if isNSDecl(a) {
			continue
		}
		attrs = append(attrs, c14nAttr{attrNamespace(a.Space, c.inScope), a})
	}
	slices.SortFunc(attrs, func(x, y c14nAttr) int {
		if d := strings.Compare(x.uri, y.uri); d != 0 {
			return d
		}
		return strings.Compare(x.a.Key, y.a.Key)
	})

	c.out = append(c.out, '<')
	c.out = appendQName(c.out, e.Space, e.Tag)
	for _, b := range ns {
		if b.prefix == "" {
			c.out = append(c.out, ` xmlns="`...)
		} else {
			c.out = append(c.out, ` xmlns:`...)
			c.out = append(c.out, b.prefix...)
			c.out = append(c.out, `="`...)
		}
		c.out = appendEscapedAttr(c.out, b.uri)
		c.out = append(c.out, '"')
	}
	for _, x := range attrs {
		c.out = append(c.out, ' ')
		c.out = appendQName(c.out, x.a.Space, x.a.Key)
		c.out = append(c.out, `="`...)
		c.out = appendEscapedAttr(c.out, x.a.Value)
		c.out = append(c.out, '"')
	}
	c.out = append(c.out, '>')
	// The buffers are reused by the children: done with them here.
	c.nsBuf, c.attrBuf = ns[:0], attrs[:0]

	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Element:
			if t == c.opt.skip {
				continue
			}
			if err := c.element(t); err != nil {
				return err
			}
		case *etree.CharData:
			c.out = appendEscapedText(c.out, t.Data)
		case *etree.Comment:
			if c.opt.comments {
				c.out = append(c.out, "<!--"...)
				c.out = append(c.out, t.Data...)
				c.out = append(c.out, "-->"...)
			}
		default:
			// A processing instruction or directive: parseXML refuses
			// them inside the root, so only a tree built elsewhere has one.
			return Errorf(CodeMalformedResponse, "unexpected %T in a signed element", t)
		}
	}
	c.out = append(c.out, "</"...)
	c.out = appendQName(c.out, e.Space, e.Tag)
	c.out = append(c.out, '>')
	c.inScope, c.rendered = c.inScope[:scopeMark], c.rendered[:renderMark]
	return nil
}

func appendQName(dst []byte, prefix, local string) []byte {
	if prefix != "" {
		dst = append(dst, prefix...)
		dst = append(dst, ':')
	}
	return append(dst, local...)
}

// appendEscapedText escapes character data as C14N 1.0 section 2.3 says.
func appendEscapedText(dst []byte, s string) []byte { return appendEscaped(dst, s, false) }

// appendEscapedAttr escapes an attribute value as C14N 1.0 section 2.3 says.
func appendEscapedAttr(dst []byte, s string) []byte { return appendEscaped(dst, s, true) }

// appendEscaped writes s with & and < escaped, then > in text, or ", tab
// and line feed in an attribute value; a carriage return in both.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch c := s[i]; {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '\r':
			esc = "&#xD;"
		case c == '>' && !attr:
			esc = "&gt;"
		case c == '"' && attr:
			esc = "&quot;"
		case c == '\t' && attr:
			esc = "&#x9;"
		case c == '\n' && attr:
			esc = "&#xA;"
		default:
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		start = i + 1
	}
	return append(dst, s[start:]...)
}
