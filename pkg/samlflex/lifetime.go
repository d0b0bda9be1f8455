package samlflex

import (
	"time"

	"github.com/beevik/etree"
)

// checkAge refuses a response whose IssueInstant (Response and Assertion)
// or AuthnInstant is older than the account's MaxAuthnAge plus the skew
// (assertion_too_old). (A future instant is left to the NotBefore checks:
// Salesforce back-dates NotBefore, and the skew edge there is tested.)
// Conditions alone do not bound an assertion's
// life: an IdP-signed assertion issued five years ago with conditions
// running ten years ahead passed every other check.
//
// It then caps out.NotOnOrAfter, the replay record's lifetime, at the last
// instant the age check can pass under the largest max_authn_age and skew
// the account may be given (an admin raising them later must not reopen a
// used assertion). Only the Assertion's own instants set that cap: every
// verifiable copy of it carries them, under whatever signature verifies
// it. The envelope's IssueInstant is checked (it can only cause a
// refusal) but never shortens the record, signed or not: the Assertion may
// be presented in another envelope (unsigned, or without the Response's
// signature when it is signed on its own), later.
func (v *Verifier) checkAge(resp, root, assertion *etree.Element, now time.Time, skew time.Duration, out *Assertion) error {
	maxAge := v.acct.AuthnAge()
	type instant struct {
		what   string
		t      time.Time
		signed bool
	}
	instants := []instant{{"Assertion IssueInstant", out.IssueInstant, true}}
	envelope := root
	if resp != nil {
		envelope = resp
	}
	rt, err := timeAttr(envelope, "IssueInstant", true)
	if err != nil {
		return err
	}
	instants = append(instants, instant{"Response IssueInstant", rt, false})
	for _, st := range childElems(assertion, nsAssertion, "AuthnStatement") {
		at, err := timeAttr(st, "AuthnInstant", true)
		if err != nil {
			return err
		}
		instants = append(instants, instant{"AuthnInstant", at, true})
	}
	var oldest time.Time
	for _, in := range instants {
		last := in.t.Add(maxAge + skew)
		if !now.Before(last) {
			return Errorf(CodeAssertionTooOld, "%s %s is older than max_authn_age %s plus skew %s at %s",
				in.what, in.t.Format(time.RFC3339Nano), maxAge, skew, now.UTC().Format(time.RFC3339Nano))
		}
		if in.signed && (oldest.IsZero() || in.t.Before(oldest)) {
			oldest = in.t
		}
	}
	if bound := oldest.Add(MaxMaxAuthnAge + MaxClockSkew); out.NotOnOrAfter.After(bound) {
		out.NotOnOrAfter = bound
	}
	return nil
}

// latestConfirmation returns the latest NotOnOrAfter among notOnOrAfter
// and every bearer SubjectConfirmationData of the subject: a later
// confirmation can still be accepted once an earlier one has expired, so
// the replay record must outlive all of them.
func latestConfirmation(subject *etree.Element, notOnOrAfter time.Time) time.Time {
	for _, data := range bearerData(subject) {
		if data == nil {
			continue
		}
		if t, err := timeAttr(data, "NotOnOrAfter", false); err == nil && t.After(notOnOrAfter) {
			notOnOrAfter = t
		}
	}
	return notOnOrAfter
}
