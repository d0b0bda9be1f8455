package samlflex

import (
	"crypto/x509"
	"errors"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// XML namespaces and fixed values of SAML 2.0.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = dsig.Namespace

	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	cmBearer      = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	// The bounds on XML work (maxXMLElements and kin) are in limits.go.
)

// Verifier checks SAML responses for one account. It is safe for
// concurrent use; build one per account configuration.
type Verifier struct {
	acct  Account
	urls  URLs
	certs []*x509.Certificate
	now   func() time.Time
}

// VerifierConfig configures NewVerifier.
type VerifierConfig struct {
	Account Account
	// BaseURL is the public base URL of samlflex; the entity ID and ACS URL
	// are derived from it (see URLsFor).
	BaseURL string
	// URLs, when set, replace the identifiers derived from BaseURL. Only
	// for an SP that must keep an entity ID issued elsewhere (and for
	// checking captures from other SPs in tests).
	URLs *URLs
	// Now is the clock (nil: time.Now). The signature checker uses it too.
	Now func() time.Time
}

// NewVerifier validates the account's certificates and builds a Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	var urls URLs
	if cfg.URLs != nil {
		urls = *cfg.URLs
	} else {
		var err error
		if urls, err = URLsFor(cfg.BaseURL, cfg.Account.AccountSID); err != nil {
			return nil, err
		}
	}
	if len(cfg.Account.IdPCertificates) == 0 {
		return nil, Errorf(CodeInvalidConfig, "account %s has no IdP certificate", cfg.Account.AccountSID)
	}
	v := &Verifier{acct: cfg.Account, urls: urls, now: cfg.Now}
	if v.now == nil {
		v.now = time.Now
	}
	for i, pemText := range cfg.Account.IdPCertificates {
		c, err := ParseCertificate(pemText)
		if err != nil {
			return nil, Errorf(CodeInvalidConfig, "account %s: idp_certificates[%d]: %v", cfg.Account.AccountSID, i, err)
		}
		v.certs = append(v.certs, c)
	}
	if strings.TrimSpace(cfg.Account.IdPIssuer) == "" {
		return nil, Errorf(CodeInvalidConfig, "account %s has no IdP issuer", cfg.Account.AccountSID)
	}
	return v, nil
}

// URLs returns the SP identifiers the verifier checks against.
func (v *Verifier) URLs() URLs { return v.urls }

// Expect is what the caller knows about the login being answered.
type Expect struct {
	// RequestID is the ID of the AuthnRequest that this browser started
	// (from the login cookie), or "" when no login was started here.
	RequestID string
}

// Assertion is a verified assertion: every field comes from XML that a
// trusted signature covers.
type Assertion struct {
	ID           string
	ResponseID   string
	Issuer       string
	IssuerRule   IssuerRule
	NameID       string
	NameIDFormat string
	InResponseTo string
	// Unsolicited is true for an IdP-initiated login.
	Unsolicited bool
	// RequestBound is true when every copy of this Assertion that could
	// verify, now or later, answers the same request: every bearer
	// SubjectConfirmationData of the Assertion carries the InResponseTo
	// (Salesforce's shape). When false, the same Assertion ID may arrive
	// unsolicited (with the InResponseTo only on the Response: drop the
	// Response's signature of an Assertion also signed on its own, or one
	// signed by a signature kept elsewhere; or wait until the only
	// confirmations that answer the request have expired), so its
	// one-time-use record cannot rely on the login it answered
	// (internal/acs).
	RequestBound bool
	IssueInstant time.Time
	AuthnInstant time.Time
	SessionIndex string
	// NotOnOrAfter is the latest instant at which the assertion could still
	// be accepted, under any settings the account may be given later (the
	// largest skew and max_authn_age allowed, not the current ones): keep
	// its ID for one-time use until then.
	NotOnOrAfter time.Time
	Attributes   map[string][]string
	// Signed names what the trusted signature covered: "response",
	// "assertion" or "response+assertion".
	Signed string
	// SignatureAlgorithm is the signature method URI of the covering
	// signature.
	SignatureAlgorithm string
	// CertificateSHA256 is the hex fingerprint of the certificate that
	// verified the signature.
	CertificateSHA256 string
}

// ReplayKey scopes the assertion ID by account, for the one-time-use store.
func (a *Assertion) ReplayKey(accountSID string) string {
	return accountSID + "#" + a.ID
}

// Verify decodes a base64 SAMLResponse form value (HTTP-POST binding) and
// checks everything that decides whether it lets a person in. It fails
// closed: any doubt is an *Error (never a warning flag, which is easy to
// forget to check, as gosaml2's WarningInfo is). The *Error carries the
// decision trace (Error.Trace, VerifyTrace).
//
// Order matters: cheap structural checks run before any cryptography, and
// every value used after signature verification is read from inside the
// element whose canonical form the signature covers (dsig.go), so a wrapped
// or injected element outside the signed subtree cannot reach the result
// (XML signature wrapping).
//
// An accepted response costs no trace: the checks run once, as the
// fast path. A refused one is verified a second time, at the same instant,
// to collect the trace (the same code, so the same answer); refusals before
// the signature are cheap by the limits of limits.go, and a valid login
// pays nothing for the trace it does not need.
func (v *Verifier) Verify(encoded []byte, exp Expect) (*Assertion, error) {
	now := v.now()
	var st verifyState
	a, err := v.verify(encoded, exp, nil, now, &st)
	if err == nil {
		return a, nil
	}
	tr := &Trace{}
	if st.traced {
		// Refused after the first check of the trace: verify again to
		// collect it. A refusal before it (size, base64, XML and its
		// limits, the root element) has an empty trace, so the hostile
		// shapes of limits.go are never verified twice.
		_, err = v.verify(encoded, exp, tr, now, &st)
	}
	return nil, WithTrace(err, tr)
}

// verifyState reports how far verify got.
type verifyState struct {
	// traced: verify reached the first check the trace records.
	traced bool
}

// VerifyTrace is Verify that also returns the decision trace, accepted or
// not (`samlflex account check` prints every check). The error is the
// first failed check in the order of the Check* names (trace.go), so one
// primary code names a refusal; once the signature holds, every other
// check is still evaluated and in the trace, so that an admin sees all
// that is wrong after one login.
func (v *Verifier) VerifyTrace(encoded []byte, exp Expect) (*Assertion, *Trace, error) {
	tr := &Trace{}
	a, err := v.verify(encoded, exp, tr, v.now(), &verifyState{})
	if err != nil {
		return nil, tr, WithTrace(err, tr)
	}
	return a, tr, nil
}

func (v *Verifier) verify(encoded []byte, exp Expect, tr *Trace, now time.Time, st *verifyState) (*Assertion, error) {
	if len(encoded) > v.acct.MaxResponse() {
		return nil, Errorf(CodeResponseTooLarge, "encoded response is %d bytes, limit %d", len(encoded), v.acct.MaxResponse())
	}
	raw, err := decodeBase64(encoded)
	if err != nil {
		return nil, Errorf(CodeMalformedResponse, "SAMLResponse is not base64: %v", err)
	}
	doc, err := parseXML(raw)
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if !isElem(root, nsProtocol, "Response") {
		return nil, Errorf(CodeMalformedResponse, "root element is %s, want samlp:Response", describe(root))
	}
	if attrValue(root, "Version") != "2.0" {
		return nil, Errorf(CodeMalformedResponse, "SAML version %q, want 2.0", attrValue(root, "Version"))
	}
	st.traced = true
	err = checkStatus(root)
	if tr != nil {
		tr.add(statusCheck(root, err))
	}
	if err != nil {
		return nil, err
	}
	// primary is the first failed check that does not stop the
	// verification; every later return gives it precedence (fail).
	var primary error
	fail := func(err error) (*Assertion, error) {
		if primary != nil {
			return nil, primary
		}
		return nil, err
	}
	err = checkAlgorithms(root, v.acct.AllowSHA1)
	if tr != nil {
		tr.add(algorithmCheck(root, v.acct.AllowSHA1, err))
	}
	if err != nil {
		// Refused SHA-1 stops nothing else: the signature is still
		// checked (dsig.go verifies SHA-1), only so that the trace can
		// report the other problems of this response in the same round
		// trip. The response stays refused with sha1_not_allowed.
		if CodeOf(err) != CodeSHA1NotAllowed || checkAlgorithms(root, true) != nil {
			return nil, err
		}
		primary = err
	}
	rawAssertion, err := singleAssertion(root)
	if err != nil {
		return fail(err)
	}
	if err := checkStructure(root, rawAssertion); err != nil {
		return fail(err)
	}

	// Signature: on the Response (Salesforce's default), on the Assertion,
	// or both. Whatever is used below comes from a verified element.
	var (
		resp      *etree.Element // verified Response, nil if unsigned
		assertion *etree.Element // verified Assertion
		signed    string
		sigInfo   sigResult
	)
	resp, sigInfo, err = v.verifySignature(root, now)
	switch {
	case err == nil:
		signed = "response"
		inner := childElems(resp, nsAssertion, "Assertion")
		if len(inner) != 1 {
			return fail(Errorf(CodeMultipleAssertions, "signed response holds %d assertions", len(inner)))
		}
		assertion = inner[0]
		if hasSignatureChild(assertion) {
			a, _, err := v.verifySignature(assertion, now)
			if errors.Is(err, errMissingSignature) {
				// A ds:Signature in the Assertion that covers something
				// else: a broken signature, not a missing one (the
				// Response's holds).
				err = Errorf(CodeSignatureInvalid, "the Assertion holds a ds:Signature whose Reference does not name the Assertion")
			}
			if err != nil {
				if tr != nil {
					tr.add(v.signatureCheck(assertion, err, now))
				}
				return fail(err)
			}
			assertion = a
			signed = "response+assertion"
		}
		if tr != nil {
			tr.add(v.signatureCheck(root, nil, now))
		}
	case errors.Is(err, errMissingSignature):
		a, info, aerr := v.verifySignature(rawAssertion, now)
		if errors.Is(aerr, errMissingSignature) {
			aerr = Errorf(CodeSignatureMissing, "neither the Response nor the Assertion carries a signature")
		}
		if tr != nil {
			tr.add(v.signatureCheck(rawAssertion, aerr, now))
		}
		if aerr != nil {
			return fail(aerr)
		}
		assertion, sigInfo, signed = a, info, "assertion"
	default:
		if tr != nil {
			tr.add(v.signatureCheck(root, err, now))
		}
		return fail(err)
	}
	// From here the content is trustworthy: every check is evaluated for
	// the trace, and the first failed one (readVerified's order is the
	// trace's) is the error.
	out, err := v.readVerified(resp, root, assertion, now, exp, signed, sigInfo)
	if tr != nil {
		v.contentChecks(tr, resp, root, assertion, now, exp)
	}
	if err != nil || primary != nil {
		return fail(err)
	}
	return out, nil
}

// readVerified reads and checks the verified elements, in the order of
// the trace; it returns the first failure.
func (v *Verifier) readVerified(resp, root, assertion *etree.Element, now time.Time, exp Expect, signed string, sigInfo sigResult) (*Assertion, error) {
	var err error
	out := &Assertion{
		ID:                 attrValue(assertion, "ID"),
		Signed:             signed,
		SignatureAlgorithm: sigInfo.method,
		CertificateSHA256:  sigInfo.fingerprint,
	}
	if out.ID == "" {
		return nil, Errorf(CodeMalformedResponse, "assertion has no ID")
	}
	if attrValue(assertion, "Version") != "2.0" {
		return nil, Errorf(CodeMalformedResponse, "assertion version %q, want 2.0", attrValue(assertion, "Version"))
	}
	if out.IssueInstant, err = timeAttr(assertion, "IssueInstant", true); err != nil {
		return nil, err
	}

	// Issuer: the assertion's must match; the Response's too when present.
	issuer, err := childText(assertion, nsAssertion, "Issuer", true)
	if err != nil {
		return nil, err
	}
	rule, ok := matchIssuer(v.acct.IdPIssuer, issuer)
	if !ok {
		return nil, Errorf(CodeIssuerMismatch, "assertion issuer %q, configured %q", issuer, v.acct.IdPIssuer)
	}
	out.Issuer, out.IssuerRule = issuer, rule
	responseIRT := ""
	if resp != nil {
		out.ResponseID = attrValue(resp, "ID")
		if ri, err := childText(resp, nsAssertion, "Issuer", false); err != nil {
			return nil, err
		} else if ri != "" {
			if _, ok := matchIssuer(v.acct.IdPIssuer, ri); !ok {
				return nil, Errorf(CodeIssuerMismatch, "response issuer %q, configured %q", ri, v.acct.IdPIssuer)
			}
		}
		// SAML bindings 3.5.5.2: a signed Response sent by HTTP-POST must
		// carry Destination, and it must be our ACS.
		dest := attrValue(resp, "Destination")
		if dest != v.urls.ACS {
			return nil, Errorf(CodeDestinationMismatch, "response Destination %q, want %q", dest, v.urls.ACS)
		}
		responseIRT = attrValue(resp, "InResponseTo")
	} else if dest := attrValue(root, "Destination"); dest != "" && dest != v.urls.ACS {
		// Unsigned envelope: its Destination proves nothing, but a wrong
		// one is still a configuration error worth naming.
		return nil, Errorf(CodeDestinationMismatch, "response Destination %q, want %q", dest, v.urls.ACS)
	}

	skew := v.acct.Skew()
	if err := v.checkConditions(assertion, now, skew, out); err != nil {
		return nil, err
	}
	scdIRT, err := v.checkSubject(assertion, now, skew, out)
	if err != nil {
		return nil, err
	}
	if err := v.checkAge(resp, root, assertion, now, skew, out); err != nil {
		return nil, err
	}

	// InResponseTo: bind the response to the login this browser started.
	irt := scdIRT
	if responseIRT != "" {
		if scdIRT != "" && scdIRT != responseIRT {
			return nil, Errorf(CodeInResponseToMismatch, "Response InResponseTo %q differs from SubjectConfirmationData InResponseTo %q", responseIRT, scdIRT)
		}
		irt = responseIRT
	}
	out.InResponseTo = irt
	// Every verifiable copy of the Assertion answers irt when every
	// confirmation it could be accepted under, now or later, carries it:
	// they are inside the Assertion, so whatever signature verifies a copy
	// covers them, and a Response around it can only agree (a different
	// InResponseTo is refused above). Nothing on the Response counts: a
	// signature over the Assertion may exist that lets a copy do without
	// it.
	out.RequestBound = irt != "" && everyConfirmationAnswers(assertion, irt)
	switch {
	case irt == "":
		out.Unsolicited = true
		if !v.acct.IdPInitiatedAllowed() {
			return nil, Errorf(CodeUnsolicitedNotAllowed, "unsolicited response and IdP-initiated logins are off for %s", v.acct.AccountSID)
		}
	case exp.RequestID == "":
		// The response answers a request, but not one this browser
		// started (or the login cookie was lost): refusing it stops a
		// response stolen from another browser's login from being used.
		return nil, Errorf(CodeUnknownRequest, "InResponseTo %q but no login request is tracked for this browser", irt)
	case irt != exp.RequestID:
		return nil, Errorf(CodeInResponseToMismatch, "InResponseTo %q, this browser started %q", irt, exp.RequestID)
	}

	if err := readAuthn(assertion, out); err != nil {
		return nil, err
	}
	if out.Attributes, err = readAttributes(assertion); err != nil {
		return nil, err
	}
	return out, nil
}
