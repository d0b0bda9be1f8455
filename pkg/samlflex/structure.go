package samlflex

import (
	"strings"

	"github.com/beevik/etree"
)

// Strict structure: where samlflex reads, the document must have the shape
// the SAML 2.0 schema (saml-schema-protocol-2.0.xsd and
// saml-schema-assertion-2.0.xsd) allows, child by child, in order, in the
// right namespaces. Unknown content is accepted only where the schema has
// a wildcard (Extensions, Advice, SubjectConfirmationData, StatusDetail)
// and is never read. AttributeValue is open in the schema too, but
// samlflex reads it, as text only (textOnly refuses markup and leaves
// comments out of the value). A violation is malformed_response: its
// public message already says what to do (the post is not a SAML 2.0
// Response as an IdP sends it), and a separate code would give the admin
// no other action; the detail names the element and where it was found.
//
// The check runs on the tree before the signature check; it is the same
// tree that is verified and read afterwards (dsig.go).

// qname is a namespace and a local name.
type qname struct{ ns, tag string }

var (
	qIssuer         = qname{nsAssertion, "Issuer"}
	qSignature      = qname{nsDSig, "Signature"}
	qExtensions     = qname{nsProtocol, "Extensions"}
	qStatus         = qname{nsProtocol, "Status"}
	qAssertion      = qname{nsAssertion, "Assertion"}
	qSubject        = qname{nsAssertion, "Subject"}
	qConditions     = qname{nsAssertion, "Conditions"}
	qAdvice         = qname{nsAssertion, "Advice"}
	qBaseID         = qname{nsAssertion, "BaseID"}
	qNameID         = qname{nsAssertion, "NameID"}
	qEncryptedID    = qname{nsAssertion, "EncryptedID"}
	qSubjectConf    = qname{nsAssertion, "SubjectConfirmation"}
	qSubjectConfDat = qname{nsAssertion, "SubjectConfirmationData"}
	qAudienceRestr  = qname{nsAssertion, "AudienceRestriction"}
	qAudience       = qname{nsAssertion, "Audience"}
	qOneTimeUse     = qname{nsAssertion, "OneTimeUse"}
	qProxyRestr     = qname{nsAssertion, "ProxyRestriction"}
	qCondition      = qname{nsAssertion, "Condition"}
	qStatement      = qname{nsAssertion, "Statement"}
	qAuthnStatement = qname{nsAssertion, "AuthnStatement"}
	qAuthzStatement = qname{nsAssertion, "AuthzDecisionStatement"}
	qAttrStatement  = qname{nsAssertion, "AttributeStatement"}
	qAttribute      = qname{nsAssertion, "Attribute"}
	qEncAttribute   = qname{nsAssertion, "EncryptedAttribute"}
	qAttributeValue = qname{nsAssertion, "AttributeValue"}
	qSubjectLocal   = qname{nsAssertion, "SubjectLocality"}
	qAuthnContext   = qname{nsAssertion, "AuthnContext"}
	qStatusCode     = qname{nsProtocol, "StatusCode"}
	qStatusMessage  = qname{nsProtocol, "StatusMessage"}
	qStatusDetail   = qname{nsProtocol, "StatusDetail"}
)

const unbounded = -1

// particle is one step of a content model: any of names, between min and
// max times (max unbounded: no limit).
type particle struct {
	names    []qname
	min, max int
}

func one(n ...qname) particle      { return particle{names: n, min: 1, max: 1} }
func optional(n ...qname) particle { return particle{names: n, min: 0, max: 1} }
func many(n ...qname) particle     { return particle{names: n, min: 0, max: unbounded} }
func some(n ...qname) particle     { return particle{names: n, min: 1, max: unbounded} }

func (p particle) matches(e *etree.Element) bool {
	for _, n := range p.names {
		if isElem(e, n.ns, n.tag) {
			return true
		}
	}
	return false
}

func (p particle) String() string {
	s := make([]string, len(p.names))
	for i, n := range p.names {
		s[i] = n.tag
	}
	return strings.Join(s, "|")
}

// Content models of the elements samlflex reads (schema order).
var (
	responseModel = []particle{optional(qIssuer), optional(qSignature), optional(qExtensions), one(qStatus),
		// samlflex accepts exactly one plaintext Assertion; singleAssertion
		// has refused any other count before this runs.
		one(qAssertion)}
	statusModel    = []particle{one(qStatusCode), optional(qStatusMessage), optional(qStatusDetail)}
	assertionModel = []particle{one(qIssuer), optional(qSignature), optional(qSubject), optional(qConditions), optional(qAdvice),
		many(qStatement, qAuthnStatement, qAuthzStatement, qAttrStatement)}
	// SubjectType is a choice: an identifier then confirmations, or one or
	// more confirmations. The sequence below accepts both; an empty Subject
	// is refused separately.
	subjectModel       = []particle{optional(qBaseID, qNameID, qEncryptedID), many(qSubjectConf)}
	subjectConfModel   = []particle{optional(qBaseID, qNameID, qEncryptedID), optional(qSubjectConfDat)}
	conditionsModel    = []particle{many(qCondition, qAudienceRestr, qOneTimeUse, qProxyRestr)}
	audienceModel      = []particle{some(qAudience)}
	authnModel         = []particle{optional(qSubjectLocal), one(qAuthnContext)}
	attrStatementModel = []particle{some(qAttribute, qEncAttribute)}
	attributeModel     = []particle{many(qAttributeValue)}
)

// checkContent matches e's child elements against model, in order, and
// refuses non-blank text: these are element-only content models.
func checkContent(e *etree.Element, model []particle) error {
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok && strings.TrimSpace(cd.Data) != "" {
			return Errorf(CodeMalformedResponse, "schema: %s holds text where only elements are allowed", e.Tag)
		}
	}
	i, count := 0, 0
	for _, c := range e.ChildElements() {
		for i < len(model) && !model[i].matches(c) {
			if count < model[i].min {
				return Errorf(CodeMalformedResponse, "schema: %s in %s where %s is required", describe(c), e.Tag, model[i])
			}
			i, count = i+1, 0
		}
		if i == len(model) {
			return Errorf(CodeMalformedResponse, "schema: %s is not allowed at this place in %s", describe(c), e.Tag)
		}
		count++
		if model[i].max != unbounded && count > model[i].max {
			return Errorf(CodeMalformedResponse, "schema: %s appears more than %d times in %s", describe(c), model[i].max, e.Tag)
		}
	}
	for ; i < len(model); i, count = i+1, 0 {
		if count < model[i].min {
			return Errorf(CodeMalformedResponse, "schema: %s lacks %s", e.Tag, model[i])
		}
	}
	return nil
}

// checkStructure checks the Response and everything below it that samlflex
// reads. assertion is the Response's one Assertion (singleAssertion).
func checkStructure(root, assertion *etree.Element) error {
	if err := checkContent(root, responseModel); err != nil {
		return err
	}
	if err := checkContent(firstChild(root, nsProtocol, "Status"), statusModel); err != nil {
		return err
	}
	if err := checkContent(assertion, assertionModel); err != nil {
		return err
	}
	for _, s := range childElems(assertion, nsAssertion, "Subject") {
		if len(s.ChildElements()) == 0 {
			return Errorf(CodeMalformedResponse, "schema: empty Subject")
		}
		if err := checkContent(s, subjectModel); err != nil {
			return err
		}
		for _, sc := range childElems(s, nsAssertion, "SubjectConfirmation") {
			if err := checkContent(sc, subjectConfModel); err != nil {
				return err
			}
		}
	}
	for _, c := range childElems(assertion, nsAssertion, "Conditions") {
		if err := checkContent(c, conditionsModel); err != nil {
			return err
		}
		// Core 2.5.1.5 and 2.5.1.6: at most one of each.
		if len(childElems(c, nsAssertion, "OneTimeUse")) > 1 || len(childElems(c, nsAssertion, "ProxyRestriction")) > 1 {
			return Errorf(CodeMalformedResponse, "schema: Conditions repeats OneTimeUse or ProxyRestriction")
		}
		for _, ar := range childElems(c, nsAssertion, "AudienceRestriction") {
			if err := checkContent(ar, audienceModel); err != nil {
				return err
			}
		}
	}
	for _, st := range childElems(assertion, nsAssertion, "AuthnStatement") {
		if err := checkContent(st, authnModel); err != nil {
			return err
		}
	}
	for _, st := range childElems(assertion, nsAssertion, "AttributeStatement") {
		if err := checkContent(st, attrStatementModel); err != nil {
			return err
		}
		for _, at := range childElems(st, nsAssertion, "Attribute") {
			if err := checkContent(at, attributeModel); err != nil {
				return err
			}
		}
	}
	return nil
}

// singleAssertion enforces exactly one Assertion in the whole document,
// directly inside the Response, and no EncryptedAssertion. Counting in the
// whole tree (not only the Response's children) refuses assertions hidden
// in Extensions, Advice or ds:Object, the hiding places of wrapping attacks.
func singleAssertion(root *etree.Element) (*etree.Element, error) {
	var found []*etree.Element
	encrypted := false
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.ChildElements() {
			switch {
			case c.Tag == "Assertion" && namespaceOf(c) == nsAssertion:
				found = append(found, c)
			case c.Tag == "EncryptedAssertion":
				encrypted = true
			}
			walk(c)
		}
	}
	walk(root)
	if encrypted {
		return nil, Errorf(CodeEncryptedAssertion, "response carries an EncryptedAssertion")
	}
	switch {
	case len(found) == 0:
		return nil, Errorf(CodeMalformedResponse, "response has no Assertion")
	case len(found) > 1:
		return nil, Errorf(CodeMultipleAssertions, "response holds %d assertions", len(found))
	case found[0].Parent() != root:
		return nil, Errorf(CodeMultipleAssertions, "the assertion is not a direct child of the Response")
	}
	return found[0], nil
}
