package samlflex

// Subject, authentication statement and attributes of a verified
// assertion.

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// checkSubject reads the NameID and finds a bearer SubjectConfirmation for
// our ACS that is valid now (profiles 4.1.4.2). It returns its
// InResponseTo.
func (v *Verifier) checkSubject(a *etree.Element, now time.Time, skew time.Duration, out *Assertion) (string, error) {
	subjects := childElems(a, nsAssertion, "Subject")
	if len(subjects) != 1 {
		return "", Errorf(CodeMalformedResponse, "assertion has %d Subject elements, want 1", len(subjects))
	}
	s := subjects[0]
	ids := childElems(s, nsAssertion, "NameID")
	if len(ids) != 1 {
		return "", Errorf(CodeAttributeMissing, "subject has %d NameID elements, want 1", len(ids))
	}
	nameID, err := textOnly(ids[0])
	if err != nil {
		return "", err
	}
	out.NameID = strings.TrimSpace(nameID)
	out.NameIDFormat = attrValue(ids[0], "Format")
	if out.NameID == "" {
		return "", Errorf(CodeAttributeMissing, "NameID is empty")
	}

	// The refusal names what the decision trace shows (trace_checks.go):
	// a confirmation addressed to this ACS whose window failed beats a
	// confirmation addressed elsewhere, which beats a bearer confirmation
	// without data; the first of each kind is reported.
	var windowErr, recipientErr, dataErr error
	for _, data := range bearerData(s) {
		if data == nil {
			dataErr = orErr(dataErr, Errorf(CodeMalformedResponse, "bearer confirmation without SubjectConfirmationData"))
			continue
		}
		if r := attrValue(data, "Recipient"); r != v.urls.ACS {
			recipientErr = orErr(recipientErr, Errorf(CodeRecipientMismatch, "Recipient %q, want %q", r, v.urls.ACS))
			continue
		}
		nb, err := timeAttr(data, "NotBefore", false)
		if err != nil {
			return "", err
		}
		noa, err := timeAttr(data, "NotOnOrAfter", true)
		if err != nil {
			return "", err
		}
		if err := checkWindow(nb, noa, now, skew, "SubjectConfirmationData"); err != nil {
			windowErr = orErr(windowErr, err)
			continue
		}
		// The record outlives acceptance under any skew the admin may set
		// later, not only the current one.
		out.NotOnOrAfter = latestConfirmation(s, out.NotOnOrAfter).Add(MaxClockSkew)
		return attrValue(data, "InResponseTo"), nil
	}
	if err := orErr(windowErr, orErr(recipientErr, dataErr)); err != nil {
		return "", err
	}
	return "", Errorf(CodeMalformedResponse, "no bearer SubjectConfirmation")
}

// bearerData returns, for each bearer SubjectConfirmation of subject in
// order, its first SubjectConfirmationData (nil when it has none): the
// confirmations checkSubject may accept the Assertion under (the
// structure check allows one SubjectConfirmationData per confirmation).
// checkSubject, everyConfirmationAnswers and latestConfirmation all read
// them here, so that neither RequestBound nor the replay record can
// consider fewer confirmations than acceptance does.
func bearerData(subject *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, sc := range childElems(subject, nsAssertion, "SubjectConfirmation") {
		if attrValue(sc, "Method") == cmBearer {
			out = append(out, firstChild(sc, nsAssertion, "SubjectConfirmationData"))
		}
	}
	return out
}

// everyConfirmationAnswers reports whether every bearer confirmation that
// checkSubject could pick, at any time and for any ACS URL, answers request
// irt. If one does not, the same signed Assertion verifies as unsolicited
// once the others have expired.
func everyConfirmationAnswers(a *etree.Element, irt string) bool {
	for _, s := range childElems(a, nsAssertion, "Subject") {
		for _, data := range bearerData(s) {
			if data != nil && attrValue(data, "InResponseTo") != irt {
				return false
			}
		}
	}
	return true
}

func orErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func readAuthn(a *etree.Element, out *Assertion) error {
	st := firstChild(a, nsAssertion, "AuthnStatement")
	if st == nil {
		return Errorf(CodeMalformedResponse, "assertion has no AuthnStatement")
	}
	t, err := timeAttr(st, "AuthnInstant", true)
	if err != nil {
		return err
	}
	out.AuthnInstant = t
	out.SessionIndex = attrValue(st, "SessionIndex")
	return nil
}

// readAttributes collects every AttributeStatement's values by Name.
func readAttributes(a *etree.Element) (map[string][]string, error) {
	attrs := map[string][]string{}
	for _, st := range childElems(a, nsAssertion, "AttributeStatement") {
		for _, at := range childElems(st, nsAssertion, "Attribute") {
			name := attrValue(at, "Name")
			if name == "" {
				return nil, Errorf(CodeMalformedResponse, "attribute without Name")
			}
			vals := attrs[name]
			for _, val := range childElems(at, nsAssertion, "AttributeValue") {
				t, err := textOnly(val)
				if err != nil {
					return nil, err
				}
				vals = append(vals, t)
			}
			attrs[name] = vals
		}
	}
	return attrs, nil
}
