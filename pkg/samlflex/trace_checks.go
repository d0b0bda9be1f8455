package samlflex

// The checks of the decision trace (trace.go). They explain; they never
// decide: Verify's own path returns the primary error, and a test holds
// both to the same answer on every fixture. Each one reads the elements
// Verify read, with the same helpers (matchIssuer, checkWindow, ...), and
// tolerates a malformed element (Verify reports that one).

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
)

const (
	settingIssuer    = "samlflex account: IdP issuer (--idp-issuer), the Issuer shown in Salesforce under Setup, Identity Provider"
	settingACS       = "Salesforce connected app: ACS URL (exactly this account's ACS URL)"
	settingEntityID  = "Salesforce connected app: Entity Id (exactly this account's Entity Id)"
	settingClock     = "the clocks of samlflex and the IdP (NTP); samlflex account: --clock-skew"
	settingAge       = "samlflex account: --max-authn-age; the clocks of samlflex and the IdP"
	settingCert      = "samlflex account: IdP certificate (--idp-cert), from Salesforce: Setup, Identity Provider, Download Certificate"
	settingAlgorithm = "Salesforce: Identity Provider certificate with SHA-256 (or samlflex --allow-sha1, unsafe)"
	settingSubject   = "Salesforce connected app: Subject Type = Username"
	settingIRT       = "start from the samlflex login link (samlflex account check: --request-id); samlflex account: --idp-initiated"
	settingStatus    = "Salesforce: the user's profile or permission set must have access to the connected app (Manage Profiles)"
)

// statusCheck explains the Status (read before the signature: see
// checkStatus). The message is the IdP's free text, cut.
func statusCheck(root *etree.Element, err error) Check {
	c := Check{Name: CheckStatus, Setting: settingStatus, Expected: "Success", OK: err == nil, Code: CodeOf(err)}
	status := firstChild(root, nsProtocol, "Status")
	if status == nil {
		c.Received = "no Status"
		return c
	}
	code := firstChild(status, nsProtocol, "StatusCode")
	if code == nil {
		c.Received = "no StatusCode"
		return c
	}
	top := attrValue(code, "Value")
	sub := ""
	if s := firstChild(code, nsProtocol, "StatusCode"); s != nil {
		sub = attrValue(s, "Value")
	}
	// The page shows Received: only the standard status names, never
	// free text, as the error message does (statusName). The URIs of a
	// non-standard status and the StatusMessage go to Message: the log
	// and `samlflex account check` show it.
	c.Received = statusName(top, sub)
	if c.Received == "" {
		c.Received = "a non-standard status"
		c.Message = "status " + strings.TrimSpace(top+" "+sub)
	} else if c.Received == "Success" {
		return c
	}
	if m := firstChild(status, nsProtocol, "StatusMessage"); m != nil {
		c.Message = strings.TrimSpace(c.Message + " StatusMessage: " + strings.TrimSpace(m.Text()))
	}
	if !c.OK {
		c.Note = "not signed by a trusted certificate (IdPs rarely sign errors). Likely cause: the user's profile or permission set has no access to the connected app; the Salesforce login history has the reason"
	}
	return c
}

// algorithmCheck names the signature methods of the document.
func algorithmCheck(root *etree.Element, allowSHA1 bool, err error) Check {
	var methods []string
	for _, sig := range descendants(root, nsDSig, "Signature") {
		if si := firstChild(sig, nsDSig, "SignedInfo"); si != nil {
			if m := firstChild(si, nsDSig, "SignatureMethod"); m != nil {
				if alg := attrValue(m, "Algorithm"); !slices.Contains(methods, alg) {
					methods = append(methods, alg)
				}
			}
		}
	}
	exp := "RSA or ECDSA with SHA-256, SHA-384 or SHA-512"
	if allowSHA1 {
		exp += " (SHA-1 allowed for this account)"
	}
	c := Check{Name: CheckAlgorithm, Setting: settingAlgorithm, Expected: exp, Received: strings.Join(methods, ", "), OK: err == nil, Code: CodeOf(err)}
	if c.Received == "" {
		c.Received = "no signature method"
	}
	if CodeOf(err) == CodeSHA1NotAllowed {
		c.Note = "the signature is still checked, to report the other problems now; the response stays refused"
	}
	return c
}

// signatureCheck shows the certificate the response presents (from its
// KeyInfo: presented, not trusted) beside the saved ones, so that
// "Salesforce signed with a new certificate" is obvious. el is the element
// whose signature was checked last.
func (v *Verifier) signatureCheck(el *etree.Element, err error, now time.Time) Check {
	saved := make([]string, 0, len(v.certs))
	for _, c := range v.certs {
		saved = append(saved, certSummary(c))
	}
	c := Check{Name: CheckSignature, Setting: settingCert, OK: err == nil, Code: CodeOf(err),
		Expected: "signed by a saved certificate: " + strings.Join(saved, "; ")}
	var f sigFacts
	if el != nil {
		f = factsFor(referencingSignature(el))
	}
	switch {
	case CodeOf(err) == CodeSignatureMissing:
		c.Received = "no signature on the Response or the Assertion"
		return c
	case err != nil && !f.found:
		c.Received = "a ds:Signature that does not reference the element it is in"
		return c
	case !f.keyInfo:
		c.Received = "a signature without a certificate (no KeyInfo)"
	case f.signerCert == nil:
		c.Received = "a KeyInfo certificate that does not parse"
	default:
		c.Received = presentedSummary(f.signerCert)
	}
	trusted := false
	for _, s := range v.certs {
		trusted = trusted || (f.signerCert != nil && f.signerCert.Equal(s))
	}
	switch {
	case err == nil:
		c.Note = "verified with a saved certificate"
	case f.signerCert != nil && !trusted:
		c.Note = "presented, not trusted: the response is signed with a certificate that is not saved for this account (a new Salesforce certificate?)"
	case CodeOf(err) == CodeCertificateExpired:
		c.Note = "the saved certificate is not valid at samlflex's time " + now.UTC().Format(time.RFC3339)
	case CodeOf(err) == CodeSignatureInvalid:
		c.Note = "the signature does not verify: the response was changed after signing, or signed by another key"
	}
	return c
}

// certSummary is a certificate as an admin compares it: SHA-256
// fingerprint (as samlflex account get prints it), subject and validity.
func certSummary(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return fmt.Sprintf("SHA-256 %s, subject %s, valid %s to %s", hex.EncodeToString(sum[:]),
		truncateDetail(c.Subject.String()), c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

// presentedSummary is the certificate a response presents, before anything
// is trusted: its fingerprint and validity only. Its subject is text chosen
// by whoever posted the response, and the trace is shown on a page of this
// site, so it never goes there (the fingerprint is what an admin compares
// with Salesforce's anyway).
func presentedSummary(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return fmt.Sprintf("SHA-256 %s, valid %s to %s", hex.EncodeToString(sum[:]),
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

// contentChecks adds every check that follows the signature, on the
// verified elements (resp is nil when only the Assertion is signed).
func (v *Verifier) contentChecks(t *Trace, resp, root, assertion *etree.Element, now time.Time, exp Expect) {
	skew := v.acct.Skew()

	// Issuer: the assertion's, and the Response's when present.
	issuer := Check{Name: CheckIssuer, Setting: settingIssuer, Expected: v.acct.IdPIssuer, OK: true}
	ai := elemText(firstChild(assertion, nsAssertion, "Issuer"))
	issuer.Received = ai
	if _, ok := matchIssuer(v.acct.IdPIssuer, ai); !ok {
		issuer.OK = false
	}
	if resp != nil {
		if ri := elemText(firstChild(resp, nsAssertion, "Issuer")); ri != "" {
			if ri != ai {
				issuer.Received += " (Response Issuer: " + ri + ")"
			}
			if _, ok := matchIssuer(v.acct.IdPIssuer, ri); !ok {
				issuer.OK = false
			}
		}
	}
	if issuer.Received == "" {
		issuer.Received = "no Issuer"
	}
	t.add(failCode(issuer, CodeIssuerMismatch))

	// Destination: required on a signed Response (bindings 3.5.5.2).
	dest := Check{Name: CheckDestination, Setting: settingACS, Expected: v.urls.ACS, OK: true}
	if resp != nil {
		dest.Received = attrValue(resp, "Destination")
		dest.OK = dest.Received == v.urls.ACS
	} else {
		dest.Received = attrValue(root, "Destination")
		dest.OK = dest.Received == "" || dest.Received == v.urls.ACS
		dest.Note = "on an unsigned Response envelope"
	}
	if dest.Received == "" {
		dest.Received = "no Destination"
	}
	t.add(failCode(dest, CodeDestinationMismatch))

	// Conditions: time window, then audience.
	cond := firstChild(assertion, nsAssertion, "Conditions")
	var nb, noa time.Time
	if cond != nil {
		nb, _ = timeAttr(cond, "NotBefore", false)
		noa, _ = timeAttr(cond, "NotOnOrAfter", false)
	}
	t.add(windowCheck(CheckConditionsTime, "Conditions", nb, noa, now, skew))
	aud := Check{Name: CheckAudience, Setting: settingEntityID, Expected: v.urls.EntityID, OK: cond != nil}
	var seen []string
	restrictions := 0
	if cond != nil {
		for _, r := range childElems(cond, nsAssertion, "AudienceRestriction") {
			restrictions++
			found := false
			for _, a := range childElems(r, nsAssertion, "Audience") {
				text, _ := textOnly(a) // untrimmed, as checkConditions compares it
				seen = append(seen, text)
				found = found || text == v.urls.EntityID
			}
			aud.OK = aud.OK && found
		}
	}
	aud.OK = aud.OK && restrictions > 0
	aud.Received = strings.Join(seen, ", ")
	if restrictions == 0 {
		aud.Received = "no AudienceRestriction"
	}
	t.add(failCode(aud, CodeAudienceMismatch))

	// Subject: NameID (its presence only: the value is personal data),
	// then the bearer confirmation for our ACS.
	subject := firstChild(assertion, nsAssertion, "Subject")
	nameID := Check{Name: CheckNameID, Setting: settingSubject, Expected: "one non-empty NameID"}
	var ids []*etree.Element
	if subject != nil {
		ids = childElems(subject, nsAssertion, "NameID")
	}
	switch {
	case len(ids) != 1:
		nameID.Received = fmt.Sprintf("%d NameID elements", len(ids))
	case !isTextOnly(ids[0]):
		nameID.Received, nameID.Code = "a NameID holding markup or a comment", CodeMalformedResponse
	case elemText(ids[0]) == "":
		nameID.Received = "an empty NameID"
	default:
		nameID.OK = true
		nameID.Received = "present"
		if f := attrValue(ids[0], "Format"); f != "" {
			nameID.Received += ", format " + f
		}
	}
	t.add(failCode(nameID, CodeAttributeMissing))

	var bearers []*etree.Element
	if subject != nil {
		for _, sc := range childElems(subject, nsAssertion, "SubjectConfirmation") {
			if attrValue(sc, "Method") == cmBearer {
				if d := firstChild(sc, nsAssertion, "SubjectConfirmationData"); d != nil {
					bearers = append(bearers, d)
				}
			}
		}
	}
	rcpt := Check{Name: CheckRecipient, Setting: settingACS, Expected: v.urls.ACS}
	var recipients []string
	var chosen *etree.Element
	var chosenWindow Check
	for _, d := range bearers {
		r := attrValue(d, "Recipient")
		recipients = append(recipients, r)
		if r != v.urls.ACS {
			continue
		}
		rcpt.OK = true
		scNB, _ := timeAttr(d, "NotBefore", false)
		scNOA, _ := timeAttr(d, "NotOnOrAfter", false)
		w := windowCheck(CheckConfirmationTime, "SubjectConfirmationData", scNB, scNOA, now, skew)
		if chosen == nil || (w.OK && !chosenWindow.OK) {
			chosen, chosenWindow = d, w
		}
	}
	if chosen == nil && len(bearers) > 0 {
		chosen = bearers[0]
		scNB, _ := timeAttr(chosen, "NotBefore", false)
		scNOA, _ := timeAttr(chosen, "NotOnOrAfter", false)
		chosenWindow = windowCheck(CheckConfirmationTime, "SubjectConfirmationData", scNB, scNOA, now, skew)
	}
	rcpt.Received = strings.Join(recipients, ", ")
	rcpt = failCode(rcpt, CodeRecipientMismatch)
	if len(bearers) == 0 {
		rcpt.Received, rcpt.Code = "no bearer SubjectConfirmation with SubjectConfirmationData", CodeMalformedResponse
	}
	t.add(rcpt)
	if chosen != nil {
		t.add(chosenWindow)
	}

	t.add(v.ageCheck(resp, root, assertion, now, skew))

	// InResponseTo, as Verify binds it to the login this browser started.
	irt := Check{Name: CheckInResponseTo, Setting: settingIRT, OK: true}
	respIRT, scIRT := "", ""
	if resp != nil {
		respIRT = attrValue(resp, "InResponseTo")
	}
	if chosen != nil {
		scIRT = attrValue(chosen, "InResponseTo")
	}
	got := scIRT
	if respIRT != "" {
		got = respIRT
	}
	irt.Received = got
	switch {
	case exp.RequestID != "":
		irt.Expected = exp.RequestID + " (the login this browser started)"
	case v.acct.IdPInitiatedAllowed():
		irt.Expected = "none: no login was started from samlflex (IdP-initiated logins are allowed)"
	default:
		irt.Expected = "a login started from the samlflex login link (IdP-initiated logins are refused)"
	}
	switch {
	case respIRT != "" && scIRT != "" && respIRT != scIRT:
		irt.OK, irt.Code = false, CodeInResponseToMismatch
		irt.Received = "Response " + respIRT + ", SubjectConfirmationData " + scIRT
	case got == "":
		irt.Received = "none (IdP-initiated)"
		if !v.acct.IdPInitiatedAllowed() {
			irt.OK, irt.Code = false, CodeUnsolicitedNotAllowed
		} else if v.acct.IdPInitiatedEffective() == IdPInitiatedBounce {
			irt.Note = "idp_initiated is bounce: the ACS answers this response with a new login request to the IdP instead of signing in with it"
		}
	case exp.RequestID == "":
		irt.OK, irt.Code = false, CodeUnknownRequest
		irt.Note = "the response answers a login request, but no login is tracked for this browser (the login cookie was lost, or the login took too long)"
	case got != exp.RequestID:
		irt.OK, irt.Code = false, CodeInResponseToMismatch
	}
	t.add(irt)

	if attrs, err := readAttributes(assertion); err == nil {
		t.verified, t.attrs = true, attrs
	}
}

// windowCheck explains checkWindow's answer with both times and the
// difference between samlflex's clock and the IdP's.
func windowCheck(name, where string, nb, noa, now time.Time, skew time.Duration) Check {
	err := checkWindow(nb, noa, now, skew, where)
	c := Check{Name: name, Setting: settingClock, OK: err == nil, Code: CodeOf(err),
		Expected: fmt.Sprintf("samlflex time %s within the window (allowed skew %s)", now.UTC().Format(time.RFC3339), skew)}
	c.Received = "NotBefore " + timeText(nb) + ", NotOnOrAfter " + timeText(noa)
	switch CodeOf(err) {
	case CodeAssertionNotYetValid:
		c.Note = fmt.Sprintf("samlflex's time is %s before NotBefore: the IdP's clock is ahead of samlflex's, or samlflex's is behind", nb.Sub(now).Round(time.Second))
	case CodeAssertionExpired:
		c.Note = fmt.Sprintf("samlflex's time is %s after NotOnOrAfter: the response is old, or the IdP's clock is behind samlflex's", now.Sub(noa).Round(time.Second))
	}
	return c
}

// ageCheck explains checkAge: the instants and how old each one is.
func (v *Verifier) ageCheck(resp, root, assertion *etree.Element, now time.Time, skew time.Duration) Check {
	maxAge := v.acct.AuthnAge()
	c := Check{Name: CheckAuthnAge, Setting: settingAge, OK: true,
		Expected: fmt.Sprintf("issued and authenticated at most %s (max_authn_age) + %s (skew) before samlflex time %s", maxAge, skew, now.UTC().Format(time.RFC3339))}
	envelope := root
	if resp != nil {
		envelope = resp
	}
	type instant struct {
		what string
		el   *etree.Element
		attr string
	}
	instants := []instant{{"Assertion IssueInstant", assertion, "IssueInstant"}, {"Response IssueInstant", envelope, "IssueInstant"}}
	for _, st := range childElems(assertion, nsAssertion, "AuthnStatement") {
		instants = append(instants, instant{"AuthnInstant", st, "AuthnInstant"})
	}
	var parts []string
	for _, in := range instants {
		t, err := timeAttr(in.el, in.attr, true)
		if err != nil {
			continue
		}
		parts = append(parts, in.what+" "+timeText(t))
		if c.OK && !now.Before(t.Add(maxAge+skew)) {
			c.OK, c.Code = false, CodeAssertionTooOld
			c.Note = fmt.Sprintf("%s is %s before samlflex's time", in.what, now.Sub(t).Round(time.Second))
		}
	}
	c.Received = strings.Join(parts, ", ")
	return c
}

func failCode(c Check, code Code) Check {
	if !c.OK && c.Code == "" {
		c.Code = code
	}
	return c
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// elemText is an element's trimmed text for display ("" for nil).
func elemText(e *etree.Element) string {
	if e == nil {
		return ""
	}
	t, err := textOnly(e)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(t)
}

func isTextOnly(e *etree.Element) bool {
	_, err := textOnly(e)
	return err == nil
}
