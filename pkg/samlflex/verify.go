package samlflex

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
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
	Unsolicited  bool
	IssueInstant time.Time
	AuthnInstant time.Time
	SessionIndex string
	// NotOnOrAfter is the latest instant at which the assertion could still
	// be accepted (including the allowed skew): keep its ID for one-time use
	// until then.
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

// ReplayCache is the one-time-use check for assertion IDs. Its storage is
// a concern of the callers (the store package); Verify never calls it, so
// that verification stays free of I/O.
type ReplayCache interface {
	// MarkUsed records key until expiresAt. firstUse is false when the key
	// was already recorded and has not expired. err is for a cache that
	// cannot answer; the caller must then fail closed.
	MarkUsed(key string, expiresAt time.Time) (firstUse bool, err error)
}

// Consume enforces one-time use of a verified assertion for an account:
// assertion_replayed on a second use, store_unavailable when the cache
// cannot answer (fail closed: a login without the check is refused).
func Consume(cache ReplayCache, accountSID string, a *Assertion) error {
	first, err := cache.MarkUsed(a.ReplayKey(accountSID), a.NotOnOrAfter)
	if err != nil {
		return Errorf(CodeStoreUnavailable, "replay cache: %v", err)
	}
	if !first {
		return Errorf(CodeAssertionReplayed, "assertion %s of %s was already used", a.ID, accountSID)
	}
	return nil
}

// Verify decodes a base64 SAMLResponse form value (HTTP-POST binding) and
// checks everything that decides whether it lets a person in. It fails
// closed: any doubt is an *Error (never a warning flag, which is easy to
// forget to check, as gosaml2's WarningInfo is). The *Error carries the
// decision trace (Error.Trace, VerifyTrace).
//
// Order matters: cheap structural checks run before any cryptography, and
// every value used after signature verification is read from the verified
// element that goxmldsig re-parses from the signed, canonical bytes, so a
// wrapped or injected element outside the signed subtree cannot reach the
// result (XML signature wrapping).
func (v *Verifier) Verify(encoded []byte, exp Expect) (*Assertion, error) {
	a, _, err := v.VerifyTrace(encoded, exp)
	return a, err
}

// VerifyTrace is Verify that also returns the decision trace, accepted or
// not (`samlflex account check` prints every check). The error is the
// first failed check in the order of the Check* names (trace.go), so one
// primary code names a refusal; once the signature holds, every other
// check is still evaluated and in the trace, so that an admin sees all
// that is wrong after one login.
func (v *Verifier) VerifyTrace(encoded []byte, exp Expect) (*Assertion, *Trace, error) {
	tr := &Trace{}
	a, err := v.verify(encoded, exp, tr)
	if err != nil {
		return nil, tr, WithTrace(err, tr)
	}
	return a, tr, nil
}

func (v *Verifier) verify(encoded []byte, exp Expect, tr *Trace) (*Assertion, error) {
	now := v.now()
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
	if root.SelectAttrValue("Version", "") != "2.0" {
		return nil, Errorf(CodeMalformedResponse, "SAML version %q, want 2.0", root.SelectAttrValue("Version", ""))
	}
	err = checkStatus(root)
	tr.add(statusCheck(root, err))
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
	tr.add(algorithmCheck(root, v.acct.AllowSHA1, err))
	if err != nil {
		// Refused SHA-1 stops nothing else: the signature is still
		// checked (goxmldsig verifies SHA-1), only so that the trace can
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
			a, _, err := v.verifyDetached(assertion, now)
			if err != nil {
				tr.add(v.signatureCheck(assertion, err, now))
				return fail(err)
			}
			assertion = a
			signed = "response+assertion"
		}
		tr.add(v.signatureCheck(root, nil, now))
	case errors.Is(err, dsig.ErrMissingSignature):
		a, info, aerr := v.verifyDetached(rawAssertion, now)
		if errors.Is(aerr, dsig.ErrMissingSignature) {
			aerr = Errorf(CodeSignatureMissing, "neither the Response nor the Assertion carries a signature")
		}
		tr.add(v.signatureCheck(rawAssertion, aerr, now))
		if aerr != nil {
			return fail(aerr)
		}
		assertion, sigInfo, signed = a, info, "assertion"
	default:
		tr.add(v.signatureCheck(root, err, now))
		return fail(err)
	}
	// The signature holds; before any value is read from the verified
	// elements, the document must also survive the round trip (limits.go).
	if err := roundTrip(raw); err != nil {
		return fail(err)
	}

	// From here the content is trustworthy: every check is evaluated for
	// the trace, and the first failed one (readVerified's order is the
	// trace's) is the error.
	out, err := v.readVerified(resp, root, assertion, now, exp, signed, sigInfo)
	v.contentChecks(tr, resp, root, assertion, now, exp)
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
		ID:                 assertion.SelectAttrValue("ID", ""),
		Signed:             signed,
		SignatureAlgorithm: sigInfo.method,
		CertificateSHA256:  sigInfo.fingerprint,
	}
	if out.ID == "" {
		return nil, Errorf(CodeMalformedResponse, "assertion has no ID")
	}
	if assertion.SelectAttrValue("Version", "") != "2.0" {
		return nil, Errorf(CodeMalformedResponse, "assertion version %q, want 2.0", assertion.SelectAttrValue("Version", ""))
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
		out.ResponseID = resp.SelectAttrValue("ID", "")
		if ri, err := childText(resp, nsAssertion, "Issuer", false); err != nil {
			return nil, err
		} else if ri != "" {
			if _, ok := matchIssuer(v.acct.IdPIssuer, ri); !ok {
				return nil, Errorf(CodeIssuerMismatch, "response issuer %q, configured %q", ri, v.acct.IdPIssuer)
			}
		}
		// SAML bindings 3.5.5.2: a signed Response sent by HTTP-POST must
		// carry Destination, and it must be our ACS.
		dest := resp.SelectAttrValue("Destination", "")
		if dest != v.urls.ACS {
			return nil, Errorf(CodeDestinationMismatch, "response Destination %q, want %q", dest, v.urls.ACS)
		}
		responseIRT = resp.SelectAttrValue("InResponseTo", "")
	} else if dest := root.SelectAttrValue("Destination", ""); dest != "" && dest != v.urls.ACS {
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

// decodeBase64 accepts standard base64 with or without line breaks (some
// IdPs wrap at 76 columns; the decoder skips \r and \n).
func decodeBase64(encoded []byte) ([]byte, error) {
	encoded = bytes.TrimSpace(encoded)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(encoded)))
	n, err := base64.StdEncoding.Decode(out, encoded)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// parseXML parses the response once, after the bounded streaming pass
// (prescan: size limits), and rejects DTDs, entity
// declarations, processing instructions other than the XML declaration and
// duplicate attributes.
func parseXML(raw []byte) (*etree.Document, error) {
	if !utf8.Valid(raw) {
		return nil, Errorf(CodeMalformedResponse, "response is not UTF-8")
	}
	// Bounds, streaming, before any tree exists (limits.go).
	if err := prescan(raw); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{PreserveDuplicateAttrs: true, MaxDepth: maxXMLDepth}
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, Errorf(CodeMalformedResponse, "XML does not parse: %v", err)
	}
	if doc.Root() == nil {
		return nil, Errorf(CodeMalformedResponse, "XML has no root element")
	}
	var walk func(tokens []etree.Token, top bool) error
	walk = func(tokens []etree.Token, top bool) error {
		for _, t := range tokens {
			switch t := t.(type) {
			case *etree.Directive:
				return Errorf(CodeMalformedResponse, "document type declarations and entities are not accepted")
			case *etree.ProcInst:
				if !top || t.Target != "xml" {
					return Errorf(CodeMalformedResponse, "processing instruction %q is not accepted", t.Target)
				}
			case *etree.Element:
				seen := make(map[string]struct{}, len(t.Attr))
				for _, a := range t.Attr {
					k := a.Space + ":" + a.Key
					if _, dup := seen[k]; dup {
						return Errorf(CodeMalformedResponse, "element %s repeats attribute %s", t.Tag, a.Key)
					}
					seen[k] = struct{}{}
				}
				if err := walk(t.Child, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(doc.Child, true); err != nil {
		return nil, err
	}
	return doc, nil
}

// checkStatus reports a failed login with the IdP's status. The status is
// read before the signature check on purpose: it is only used to explain a
// refusal, never to let anyone in, and IdPs do not always sign errors.
func checkStatus(root *etree.Element) error {
	status := firstChild(root, nsProtocol, "Status")
	if status == nil {
		return Errorf(CodeMalformedResponse, "response has no Status")
	}
	code := firstChild(status, nsProtocol, "StatusCode")
	if code == nil {
		return Errorf(CodeMalformedResponse, "response has no StatusCode")
	}
	top := code.SelectAttrValue("Value", "")
	if top == statusSuccess {
		return nil
	}
	sub := ""
	if c := firstChild(code, nsProtocol, "StatusCode"); c != nil {
		sub = c.SelectAttrValue("Value", "")
	}
	msg := ""
	if m := firstChild(status, nsProtocol, "StatusMessage"); m != nil {
		msg = m.Text()
	}
	public := PublicMessage(CodeStatusNotSuccess)
	if name := statusName(top, sub); name != "" {
		public = "Salesforce did not sign the user in (SAML status " + name + "). " + statusAdvice
	}
	return NewError(CodeStatusNotSuccess, public, fmt.Errorf("status %q / %q: %q", truncateDetail(top), truncateDetail(sub), truncateDetail(msg)))
}

const statusAdvice = "Check that the user's profile or permission set has access to the connected app, and the Salesforce login history for the reason."

// statusName returns "Requester/RequestDenied" for the standard status
// URIs, so that the error page can show it without echoing arbitrary input.
func statusName(top, sub string) string {
	const prefix = "urn:oasis:names:tc:SAML:2.0:status:"
	short := func(s string) string {
		if !strings.HasPrefix(s, prefix) {
			return ""
		}
		n := strings.TrimPrefix(s, prefix)
		for _, r := range n {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return ""
			}
		}
		return n
	}
	t := short(top)
	if t == "" {
		return ""
	}
	if s := short(sub); s != "" {
		return t + "/" + s
	}
	return t
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
			case c.Tag == "Assertion" && c.NamespaceURI() == nsAssertion:
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

// Signature and digest algorithms we accept.
var (
	strongSigMethods = map[string]bool{
		dsig.RSASHA256SignatureMethod: true, dsig.RSASHA384SignatureMethod: true, dsig.RSASHA512SignatureMethod: true,
		dsig.ECDSASHA256SignatureMethod: true, dsig.ECDSASHA384SignatureMethod: true, dsig.ECDSASHA512SignatureMethod: true,
	}
	sha1SigMethods = map[string]bool{dsig.RSASHA1SignatureMethod: true, dsig.ECDSASHA1SignatureMethod: true}
	strongDigests  = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
	}
	sha1Digest = "http://www.w3.org/2000/09/xmldsig#sha1"
)

// checkAlgorithms looks at every ds:Signature in the document before any
// verification, so that SHA-1 is refused with its own code (and a clear
// fix) rather than surfacing later as a generic signature error.
func checkAlgorithms(root *etree.Element, allowSHA1 bool) error {
	for _, sig := range descendants(root, nsDSig, "Signature") {
		si := firstChild(sig, nsDSig, "SignedInfo")
		if si == nil {
			continue // goxmldsig reports the broken shape
		}
		if m := firstChild(si, nsDSig, "SignatureMethod"); m != nil {
			alg := m.SelectAttrValue("Algorithm", "")
			switch {
			case strongSigMethods[alg]:
			case sha1SigMethods[alg]:
				if !allowSHA1 {
					return Errorf(CodeSHA1NotAllowed, "signature method %s", alg)
				}
			default:
				return Errorf(CodeUnsupportedAlgorithm, "signature method %q", alg)
			}
		}
		for _, ref := range childElems(si, nsDSig, "Reference") {
			if dm := firstChild(ref, nsDSig, "DigestMethod"); dm != nil {
				alg := dm.SelectAttrValue("Algorithm", "")
				switch {
				case strongDigests[alg]:
				case alg == sha1Digest:
					if !allowSHA1 {
						return Errorf(CodeSHA1NotAllowed, "digest method %s", alg)
					}
				default:
					return Errorf(CodeUnsupportedAlgorithm, "digest method %q", alg)
				}
			}
		}
	}
	return nil
}

// descendants returns every element below root with the namespace and tag,
// in document order. A plain walk: goxmldsig's NSFindIterate copies the
// namespace context at every element, which cost a tenth of a
// verification here.
func descendants(root *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.ChildElements() {
			if c.Tag == tag && c.NamespaceURI() == ns {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

type sigResult struct {
	method      string
	fingerprint string
}

// verifySignature verifies the enveloped signature that references el,
// trying each trusted certificate on its own (goxmldsig can pick among
// several only when the signature carries KeyInfo; trying each one also
// serves IdPs that omit KeyInfo during a certificate rollover). It returns
// the verified element as re-parsed from the signed bytes.
func (v *Verifier) verifySignature(el *etree.Element, now time.Time) (*etree.Element, sigResult, error) {
	clock := dsig.NewFakeClockAt(now)
	el = normalizedCopy(el)
	sig := referencingSignature(el)
	if sig == nil {
		// goxmldsig would walk the whole tree (copying the namespace
		// bindings at each element) to reach the same answer; an unsigned
		// Response with a large Extensions or Advice costs that walk for
		// nothing. referencingSignature selects as goxmldsig does
		// (sigcheck.go), so the answer is the same.
		return nil, sigResult{}, dsig.ErrMissingSignature
	}
	facts := factsFor(sig)
	var best error
	for _, cert := range v.certs {
		if e := precheckCert(facts, cert, now); e != nil {
			if best == nil || sigErrRank(e) > sigErrRank(best) {
				best = e
			}
			continue
		}
		ctx := &dsig.ValidationContext{
			CertificateStore: &dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}},
			IdAttribute:      dsig.DefaultIdAttr,
			Clock:            clock,
		}
		out, err := ctx.Validate(el)
		if err == nil {
			sum := sha256.Sum256(cert.Raw)
			return out, sigResult{method: signatureMethodOf(el), fingerprint: hex.EncodeToString(sum[:])}, nil
		}
		if errors.Is(err, dsig.ErrMissingSignature) {
			return nil, sigResult{}, err
		}
		e := classifySigError(err)
		if best == nil || sigErrRank(e) > sigErrRank(best) {
			best = e
		}
	}
	return nil, sigResult{}, best
}

// verifyDetached verifies an element nested in a document (the Assertion)
// after detaching a copy that carries the namespace declarations of its
// ancestors, as exclusive c14n sees it.
func (v *Verifier) verifyDetached(el *etree.Element, now time.Time) (*etree.Element, sigResult, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, sigResult{}, Errorf(CodeMalformedResponse, "assertion namespaces: %v", err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, sigResult{}, Errorf(CodeMalformedResponse, "assertion namespaces: %v", err)
	}
	return v.verifySignature(detached, now)
}

// sigErrRank orders failures by how much they tell the admin: a document
// too complex for the verifier beats everything (no certificate can help),
// a trusted certificate that is expired beats a bad signature, which beats
// "not our certificate" (the usual answer for the other certificates
// tried).
func sigErrRank(err error) int {
	switch CodeOf(err) {
	case CodeResponseTooComplex:
		return 4
	case CodeCertificateExpired:
		return 3
	case CodeSignatureInvalid:
		return 2
	default:
		return 1
	}
}

func signatureMethodOf(el *etree.Element) string {
	sig := firstChild(el, nsDSig, "Signature")
	if sig == nil {
		return ""
	}
	if si := firstChild(sig, nsDSig, "SignedInfo"); si != nil {
		if m := firstChild(si, nsDSig, "SignatureMethod"); m != nil {
			return m.SelectAttrValue("Algorithm", "")
		}
	}
	return ""
}

func hasSignatureChild(el *etree.Element) bool { return firstChild(el, nsDSig, "Signature") != nil }

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
	out.NameIDFormat = ids[0].SelectAttrValue("Format", "")
	if out.NameID == "" {
		return "", Errorf(CodeAttributeMissing, "NameID is empty")
	}

	var firstErr error
	for _, sc := range childElems(s, nsAssertion, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != cmBearer {
			continue
		}
		data := firstChild(sc, nsAssertion, "SubjectConfirmationData")
		if data == nil {
			firstErr = orErr(firstErr, Errorf(CodeMalformedResponse, "bearer confirmation without SubjectConfirmationData"))
			continue
		}
		if r := data.SelectAttrValue("Recipient", ""); r != v.urls.ACS {
			firstErr = orErr(firstErr, Errorf(CodeRecipientMismatch, "Recipient %q, want %q", r, v.urls.ACS))
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
			firstErr = orErr(firstErr, err)
			continue
		}
		out.NotOnOrAfter = latestConfirmation(s, out.NotOnOrAfter).Add(skew)
		return data.SelectAttrValue("InResponseTo", ""), nil
	}
	if firstErr == nil {
		firstErr = Errorf(CodeMalformedResponse, "no bearer SubjectConfirmation")
	}
	return "", firstErr
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
	out.SessionIndex = st.SelectAttrValue("SessionIndex", "")
	return nil
}

// readAttributes collects every AttributeStatement's values by Name.
func readAttributes(a *etree.Element) (map[string][]string, error) {
	attrs := map[string][]string{}
	for _, st := range childElems(a, nsAssertion, "AttributeStatement") {
		for _, at := range childElems(st, nsAssertion, "Attribute") {
			name := at.SelectAttrValue("Name", "")
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

// textOnly returns an element's character data and refuses any child
// element or comment. etree's Text() stops at the first comment, which is
// how "admin@corp.com<!---->.evil.com" would become "admin@corp.com"
// (CVE-2017-11427 and kin); c14n without comments hides the comment from the
// signature, so the check must be here.
func textOnly(e *etree.Element) (string, error) {
	var b strings.Builder
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		default:
			return "", Errorf(CodeMalformedResponse, "element %s holds markup or a comment where only text is allowed", e.Tag)
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

func timeAttr(e *etree.Element, name string, required bool) (time.Time, error) {
	v := e.SelectAttrValue(name, "")
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
	return e != nil && e.Tag == tag && e.NamespaceURI() == ns
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
	return e.FullTag() + " in " + e.NamespaceURI()
}
