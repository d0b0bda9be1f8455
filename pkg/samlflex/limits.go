package samlflex

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Bounds on the XML work done for one response. They are enforced by
// parseXML (parse.go) in its single streaming pass over the tokens, before
// each element is added to the tree and before any signature code runs, so
// that a hostile document costs about as much as the bytes read up to the
// first limit it crosses.
//
// Why each one exists:
//   - Every later step (structure, signature search, canonicalization,
//     reading) walks the tree: its size is bounded by maxXMLElements and
//     its depth (and so the recursion of canonicalization) by maxXMLDepth.
//     A Salesforce response has about 30 elements plus two per custom
//     attribute value: 900 elements is about 430 attributes.
//   - Canonicalization and prefix checks look a prefix up among the
//     bindings in scope: their number is bounded by maxNSInScope.
//     Salesforce declares xmlns:xs and xmlns:xsi on every AttributeValue,
//     so the cap counts the bindings in scope at one element (declared on
//     it and on its ancestors), never the declarations in the whole
//     document.
//   - Attributes are compared pairwise for duplicates and sorted for
//     canonicalization: maxAttrsPerElement bounds both.
//   - maxTextBytes bounds any one value, and with it the token budget.
const (
	maxXMLElements     = 900
	maxXMLDepth        = 32
	maxNSInScope       = 12
	maxAttrsPerElement = 32
	maxTextBytes       = 16 << 10
)

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
