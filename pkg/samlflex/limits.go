package samlflex

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	rtvalidator "github.com/mattermost/xml-roundtrip-validator"
)

// Bounds on the XML work done for one response. They are enforced by
// prescan, a streaming pass over the tokens, before any tree is built
// and before any signature code runs, so that
// a hostile document costs about as much as the bytes read up to the first
// limit it crosses.
//
// Why each one exists:
//   - goxmldsig's signature search (etreeutils.NSTraverse) copies every
//     in-scope namespace binding at every element it visits, once for the
//     Response and once for the Assertion: its cost is elements times
//     bindings in scope. Both factors are bounded here.
//   - goxmldsig stops any traversal after 1,000 elements
//     (etreeutils.NewDefaultNSContext) and reports it as a generic failure.
//     maxXMLElements stays below that, leaving room for the children of
//     the signatures it also counts (four per ds:Signature), so a large but
//     legitimate response gets response_too_complex, never signature_invalid.
//     A Salesforce response has about 30 elements plus two per custom
//     attribute value: 900 elements is about 430 attributes.
//   - Salesforce declares xmlns:xs and xmlns:xsi on every AttributeValue, so
//     the cap counts the bindings in scope at one element (declared on it
//     and on its ancestors), never the declarations in the whole document.
const (
	maxXMLElements     = 900
	maxXMLDepth        = 32
	maxNSInScope       = 12
	maxAttrsPerElement = 32
	maxTextBytes       = 16 << 10
)

// goxmldsigTraversalLimit is etreeutils' default traversal budget, which
// maxXMLElements must stay below (a test checks that a response at the cap
// still verifies).
const goxmldsigTraversalLimit = 1000

// limitClass names which bound a response crossed; each has its own public
// sentence naming the Salesforce setting to change.
type limitClass string

const (
	limitElements   limitClass = "elements"
	limitDepth      limitClass = "depth"
	limitNamespaces limitClass = "namespaces"
	limitAttributes limitClass = "attributes"
	limitText       limitClass = "text"
)

const complexAdvice = " Remove unneeded custom attributes (and long attribute values) from the Salesforce connected app."

var limitPublic = map[limitClass]string{
	limitElements:   fmt.Sprintf("The SAML response has more XML elements than samlflex accepts (%d; each custom attribute adds two).", maxXMLElements) + complexAdvice,
	limitDepth:      fmt.Sprintf("The SAML response nests XML elements deeper than samlflex accepts (%d levels).", maxXMLDepth) + complexAdvice,
	limitNamespaces: fmt.Sprintf("The SAML response has more XML namespace declarations in scope at one element than samlflex accepts (%d).", maxNSInScope) + complexAdvice,
	limitAttributes: fmt.Sprintf("The SAML response has an XML element with more XML attributes than samlflex accepts (%d).", maxAttrsPerElement) + complexAdvice,
	limitText:       fmt.Sprintf("The SAML response holds a text or attribute value longer than samlflex accepts (%d bytes).", maxTextBytes) + complexAdvice,
}

// tooComplex builds the response_too_complex error for one limit class: the
// public message names the class (and only our own numbers, never input),
// the detail names the limit and the value seen.
func tooComplex(class limitClass, format string, args ...any) *Error {
	return NewError(CodeResponseTooComplex, limitPublic[class], fmt.Errorf("%s limit: "+format, append([]any{class}, args...)...))
}

// maxTokenBytes bounds the bytes encoding/xml may read for one token. No
// legitimate token comes near it (a value is at most maxTextBytes, a start
// tag of Salesforce's is under 1 KiB), and it makes the tokenizer stop a
// hostile start tag (thousands of attributes or namespace declarations) or
// text run after reading this much of it, instead of parsing all of it
// first: encoding/xml reads about 20 MB/s, so a 190 KB start tag would
// otherwise cost several valid validations before any count could be
// checked.
const maxTokenBytes = maxTextBytes + 1024

// errTokenTooLong is returned by tokenBudget when a token runs over
// maxTokenBytes.
var errTokenTooLong = errors.New("token too long")

// tokenBudget feeds raw to encoding/xml byte by byte (as an io.ByteReader
// the decoder uses it without buffering) and fails once the current token
// has consumed maxTokenBytes.
type tokenBudget struct {
	raw   []byte
	pos   int
	start int // offset at which the current token began
}

func (b *tokenBudget) ReadByte() (byte, error) {
	if b.pos >= len(b.raw) {
		return 0, io.EOF
	}
	if b.pos-b.start > maxTokenBytes {
		return 0, errTokenTooLong
	}
	c := b.raw[b.pos]
	b.pos++
	return c, nil
}

func (b *tokenBudget) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := b.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// tokenTooLong classifies a token cut off by the budget from the bytes read
// so far. The refusal is certain either way; this only picks the message:
// a start tag counts its namespace declarations and attributes, anything
// else is a long value.
func tokenTooLong(tok []byte) *Error {
	if len(tok) > 0 && tok[0] == '<' && len(tok) > 1 && tok[1] != '!' && tok[1] != '?' {
		if n := bytes.Count(tok, []byte("xmlns")); n > maxNSInScope {
			return tooComplex(limitNamespaces, "a start tag of over %d bytes with at least %d namespace declarations, limit %d", maxTokenBytes, n, maxNSInScope)
		}
		if n := bytes.Count(tok, []byte("=")); n > maxAttrsPerElement {
			return tooComplex(limitAttributes, "a start tag of over %d bytes with at least %d attributes, limit %d", maxTokenBytes, n, maxAttrsPerElement)
		}
	}
	return tooComplex(limitText, "a token of over %d bytes (text or attribute value limit %d)", maxTokenBytes, maxTextBytes)
}

// prescan tokenizes raw with encoding/xml and refuses it at the first bound
// crossed, without reading the rest and without building a tree. It is
// cheap (RawToken only); the round-trip check, which costs far more per
// token, runs later (roundTrip) on documents known to be within the bounds
// and signed by the IdP.
func prescan(raw []byte) error {
	in := &tokenBudget{raw: raw}
	d := xml.NewDecoder(in)
	d.Strict = true
	type open struct {
		name xml.Name
		ns   int // bindings in scope at this element, its own included
	}
	stack := make([]open, 0, maxXMLDepth)
	elements := 0
	for {
		in.start = int(d.InputOffset())
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errTokenTooLong) {
			return tokenTooLong(raw[in.start:in.pos])
		}
		if err != nil {
			return Errorf(CodeMalformedResponse, "XML does not parse: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxXMLElements {
				return tooComplex(limitElements, "more than %d elements (at byte %d)", maxXMLElements, d.InputOffset())
			}
			if len(stack) >= maxXMLDepth {
				return tooComplex(limitDepth, "element nested deeper than %d levels", maxXMLDepth)
			}
			ns := 0
			if len(stack) > 0 {
				ns = stack[len(stack)-1].ns
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					// Counted per declaration, not per distinct prefix:
					// an upper bound of the bindings goxmldsig copies.
					ns++
				}
				if len(a.Value) > maxTextBytes {
					return tooComplex(limitText, "an attribute value is %d bytes, limit %d", len(a.Value), maxTextBytes)
				}
			}
			if ns > maxNSInScope {
				return tooComplex(limitNamespaces, "%d namespace declarations in scope at one element, limit %d", ns, maxNSInScope)
			}
			if len(t.Attr) > maxAttrsPerElement {
				return tooComplex(limitAttributes, "an element has %d attributes, limit %d", len(t.Attr), maxAttrsPerElement)
			}
			stack = append(stack, open{name: t.Name, ns: ns})
		case xml.EndElement:
			// RawToken does not pair tags; pairing them here keeps the
			// depth and namespace counts honest for the next element.
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return Errorf(CodeMalformedResponse, "XML does not parse: unexpected end element")
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(t) > maxTextBytes {
				return tooComplex(limitText, "a text node is %d bytes, limit %d", len(t), maxTextBytes)
			}
		case xml.Comment:
			if len(t) > maxTextBytes {
				return tooComplex(limitText, "a comment is %d bytes, limit %d", len(t), maxTextBytes)
			}
		}
	}
	if elements == 0 || len(stack) != 0 {
		return Errorf(CodeMalformedResponse, "XML does not parse: no root element or unclosed elements")
	}
	return nil
}

// roundTrip refuses documents whose namespaces encoding/xml does not keep
// stable when they are parsed and written again (the basis of several SAML
// bypasses, CVE-2020-29509/29510/29511).
//
// Verify runs it after the signature verifies and before any value is read
// from the verified elements: a document is accepted only if it passes both
// checks, whatever their order, so the order changes nothing that is let in.
// Running it second keeps its cost (the validator allocates an encoder and a
// decoder per token, about 70% of a valid login's allocations) away from
// unsigned hostile documents, which the signature check refuses first.
func roundTrip(raw []byte) error {
	if err := rtvalidator.Validate(bytes.NewReader(raw)); err != nil {
		return Errorf(CodeMalformedResponse, "XML round-trip check failed: %v", err)
	}
	return nil
}
