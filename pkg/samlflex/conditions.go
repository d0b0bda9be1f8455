package samlflex

// Conditions: the validity window (with the allowed skew, applied in one
// place) and the audience restriction.

import (
	"time"

	"github.com/beevik/etree"
)

// checkConditions enforces Conditions/NotBefore, NotOnOrAfter and the
// AudienceRestriction (SAML core 2.5.1).
func (v *Verifier) checkConditions(a *etree.Element, now time.Time, skew time.Duration, out *Assertion) error {
	conds := childElems(a, nsAssertion, "Conditions")
	if len(conds) != 1 {
		return Errorf(CodeMalformedResponse, "assertion has %d Conditions elements, want 1", len(conds))
	}
	c := conds[0]
	nb, err := timeAttr(c, "NotBefore", false)
	if err != nil {
		return err
	}
	noa, err := timeAttr(c, "NotOnOrAfter", false)
	if err != nil {
		return err
	}
	if err := checkWindow(nb, noa, now, skew, "Conditions"); err != nil {
		return err
	}
	out.NotOnOrAfter = noa
	// Every AudienceRestriction must name us (core 2.5.1.4), and at least
	// one must exist: an assertion for "anyone" is not for us.
	restrictions := childElems(c, nsAssertion, "AudienceRestriction")
	if len(restrictions) == 0 {
		return Errorf(CodeAudienceMismatch, "assertion has no AudienceRestriction")
	}
	for _, r := range restrictions {
		found := false
		var seen []string
		for _, aud := range childElems(r, nsAssertion, "Audience") {
			t, err := textOnly(aud)
			if err != nil {
				return err
			}
			seen = append(seen, t)
			if t == v.urls.EntityID {
				found = true
			}
		}
		if !found {
			return Errorf(CodeAudienceMismatch, "audiences %q, want %q", seen, v.urls.EntityID)
		}
	}
	return nil
}

// checkWindow applies the allowed clock skew on both sides, in one place.
func checkWindow(notBefore, notOnOrAfter, now time.Time, skew time.Duration, where string) error {
	if !notBefore.IsZero() && now.Before(notBefore.Add(-skew)) {
		return Errorf(CodeAssertionNotYetValid, "%s NotBefore %s, now %s, skew %s", where, notBefore.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano), skew)
	}
	if !notOnOrAfter.IsZero() && !now.Before(notOnOrAfter.Add(skew)) {
		return Errorf(CodeAssertionExpired, "%s NotOnOrAfter %s, now %s, skew %s", where, notOnOrAfter.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano), skew)
	}
	return nil
}
