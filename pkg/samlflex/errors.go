package samlflex

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable reason for a failed login or a bad
// setting. Codes are API: they appear in the X-Samlflex-Error header, on the
// error page, in logs and in alarms. Add new ones; never rename one.
type Code string

// The codes. Each one has a class and a fixed, admin-readable message in
// the catalogue (Codes).
const (
	CodeResponseTooLarge       Code = "response_too_large"
	CodeMalformedResponse      Code = "malformed_response"
	CodeSignatureMissing       Code = "signature_missing"
	CodeSignatureInvalid       Code = "signature_invalid"
	CodeCertificateUntrusted   Code = "certificate_untrusted"
	CodeCertificateExpired     Code = "certificate_expired"
	CodeSHA1NotAllowed         Code = "sha1_not_allowed"
	CodeUnsupportedAlgorithm   Code = "unsupported_algorithm"
	CodeEncryptedAssertion     Code = "encrypted_assertion"
	CodeMultipleAssertions     Code = "multiple_assertions"
	CodeStatusNotSuccess       Code = "status_not_success"
	CodeIssuerMismatch         Code = "issuer_mismatch"
	CodeAudienceMismatch       Code = "audience_mismatch"
	CodeDestinationMismatch    Code = "destination_mismatch"
	CodeRecipientMismatch      Code = "recipient_mismatch"
	CodeAssertionExpired       Code = "assertion_expired"
	CodeAssertionNotYetValid   Code = "assertion_not_yet_valid"
	CodeUnsolicitedNotAllowed  Code = "unsolicited_not_allowed"
	CodeInResponseToMismatch   Code = "in_response_to_mismatch"
	CodeUnknownRequest         Code = "unknown_request"
	CodeAssertionReplayed      Code = "assertion_replayed"
	CodeAttributeMissing       Code = "attribute_missing"
	CodeUnknownRole            Code = "unknown_role"
	CodeNoRoles                Code = "no_roles"
	CodeInvalidConfig          Code = "invalid_config"
	CodeUnknownAccount         Code = "unknown_account"
	CodeStoreUnavailable       Code = "store_unavailable"
	CodeKeysUnavailable        Code = "keys_unavailable"
	CodeBadRequest             Code = "bad_request"
	CodeMethodNotAllowed       Code = "method_not_allowed"
	CodeNotFound               Code = "not_found"
	CodeInternal               Code = "internal"
	CodeVersionConflict        Code = "version_conflict"
	CodeFlexUnavailable        Code = "flex_unavailable"
	CodeFlexCredentialsInvalid Code = "flex_credentials_invalid"
	CodeFlexInstanceNotFound   Code = "flex_instance_not_found"
	// CodeFlexUserLimit is kept because codes are API, but no Twilio answer
	// maps to it today: 14240 (TaskRouter concurrent workers) is not a user
	// limit and now maps to flex_unavailable (docs/flex.md).
	CodeFlexUserLimit      Code = "flex_user_limit"
	CodeFlexRejected       Code = "flex_rejected"
	CodeResponseTooComplex Code = "response_too_complex"
	CodeAssertionTooOld    Code = "assertion_too_old"
	CodeIdPInitiatedLoop   Code = "idp_initiated_loop"
	CodeServerBusy         Code = "server_busy"
)

// Error is the one error type of samlflex. Public is a sentence that is safe
// to show in a browser: it never echoes input from the request, and it names
// the setting an admin has to fix. Err keeps the detail for the logs only.
//
// crewjam/saml's InvalidResponseError has the same split; we add the stable
// Code so that support can grep for it and alarms can count it.
type Error struct {
	Code   Code
	Public string
	Err    error
	// Trace, when set, is the decision trace of the response that was
	// refused: every check with the expected and the received value
	// (trace.go). Code is its first failed check.
	Trace *Trace
}

// Error returns "code: detail" for logs. It is never shown to a browser.
func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Code) + ": " + e.Public
	}
	return string(e.Code) + ": " + e.Err.Error()
}

// Unwrap gives errors.Is/As access to the detail.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with the code's fixed public message and a detail
// for the logs. Details quote IdP-controlled text (issuers, element names,
// values), so string arguments are cut by truncateDetail: one refused
// request must not write a 180 KB log line.
func Errorf(code Code, format string, args ...any) *Error {
	for i, a := range args {
		switch a := a.(type) {
		case string:
			args[i] = truncateDetail(a)
		case []string:
			cut := make([]string, len(a))
			for j, s := range a {
				cut[j] = truncateDetail(s)
			}
			args[i] = cut
		}
	}
	return &Error{Code: code, Public: PublicMessage(code), Err: fmt.Errorf(format, args...)}
}

// NewError builds an *Error with a public message chosen by the caller. The
// caller guarantees that public does not echo request input.
func NewError(code Code, public string, detail error) *Error {
	return &Error{Code: code, Public: public, Err: detail}
}

// CodeOf returns the code of err, or CodeInternal when err is not an *Error.
// It is the one way to match a code: compare CodeOf(err) with a constant.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// PublicOf returns the browser-safe message of err.
func PublicOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Public != "" {
		return e.Public
	}
	return PublicMessage(CodeInternal)
}

// PublicMessage is the fixed, admin-readable sentence for a code. Each one
// says what happened and which setting (in Salesforce or in samlflex) fixes
// it.
func PublicMessage(code Code) string {
	if c, ok := byCode[code]; ok {
		return c.Public
	}
	return byCode[CodeInternal].Public
}

// Class is what kind of failure a code is, in terms neutral to any
// transport: the HTTP layer (internal/httpapi) maps each class to a status,
// and the CLI could map it to an exit code. The core never names a status.
type Class string

// The classes.
const (
	// ClassInput: the request is not one samlflex can read.
	ClassInput Class = "input"
	// ClassTooLarge: the request is larger than samlflex accepts.
	ClassTooLarge Class = "too_large"
	// ClassRefused: the request is readable but does not let anyone in.
	ClassRefused Class = "refused"
	// ClassNotFound: what the request names does not exist.
	ClassNotFound Class = "not_found"
	// ClassNotAllowed: the operation is not offered at this address.
	ClassNotAllowed Class = "not_allowed"
	// ClassConflict: the request lost a race or repeats a one-time action.
	ClassConflict Class = "conflict"
	// ClassUnavailable: a dependency cannot answer now; retrying may help.
	ClassUnavailable Class = "unavailable"
	// ClassUpstream: a dependency (Flex) answered with a refusal.
	ClassUpstream Class = "upstream"
	// ClassServer: samlflex or its settings are at fault.
	ClassServer Class = "server"
)

// CodeInfo is one entry of the code catalogue.
type CodeInfo struct {
	Code   Code
	Class  Class
	Public string
}

// Codes returns the catalogue of every code, in a fixed order (the order
// of the constants). The slice is a copy.
func Codes() []CodeInfo { return append([]CodeInfo(nil), codes...) }

// Lookup returns the catalogue entry of code; ok is false for a code that
// is not in the catalogue.
func Lookup(code Code) (info CodeInfo, ok bool) {
	info, ok = byCode[code]
	return info, ok
}

// codes is the catalogue: every code once, in the order of the constants,
// with its class and its public message. It is the one source: the HTTP
// layer maps classes to statuses, and a test there checks README's table
// against it.
var codes = []CodeInfo{
	{CodeResponseTooLarge, ClassTooLarge, "The SAML response is larger than samlflex accepts. Remove unneeded custom attributes from the Salesforce connected app, or raise the account's maximum response size."},
	{CodeMalformedResponse, ClassInput, "The SAML response is not a well-formed SAML 2.0 Response. Check that the connected app's ACS URL points at this samlflex account and that nothing between Salesforce and samlflex rewrites the form post."},
	{CodeSignatureMissing, ClassRefused, "The SAML response is not signed. Salesforce signs responses by default: check that the connected app uses the identity provider certificate, and that nothing rewrites the response on the way."},
	{CodeSignatureInvalid, ClassRefused, "The signature on the SAML response does not verify: the response was changed after Salesforce signed it, or it was signed with a key that does not belong to the certificate saved in samlflex. Re-download the certificate from Salesforce (Setup, Identity Provider, Download Certificate) and save it as the account's IdP certificate."},
	{CodeCertificateUntrusted, ClassRefused, "The certificate that signed this response is not one saved for this samlflex account. Re-download it from Salesforce (Setup, Identity Provider, Download Certificate, or Certificate and Key Management) and save it as the account's IdP certificate."},
	{CodeCertificateExpired, ClassRefused, "The identity provider certificate saved for this account has expired or is not valid yet. Create a new certificate in Salesforce (Certificate and Key Management), select it under Identity Provider, and save it in samlflex."},
	{CodeSHA1NotAllowed, ClassRefused, "The SAML response is signed with SHA-1, which this account does not accept. In Salesforce, choose a certificate with SHA-256 under Identity Provider, or allow SHA-1 for this account only if you must."},
	{CodeUnsupportedAlgorithm, ClassRefused, "The SAML response uses a signature or digest algorithm that samlflex does not accept. Use RSA or ECDSA with SHA-256, SHA-384 or SHA-512."},
	{CodeEncryptedAssertion, ClassRefused, "The SAML response carries an encrypted assertion, which this account does not accept. In the Salesforce connected app, turn off Encrypt SAML Response."},
	{CodeMultipleAssertions, ClassRefused, "The SAML response must carry exactly one assertion, directly inside the Response. This one does not, so it was refused."},
	{CodeStatusNotSuccess, ClassRefused, "Salesforce did not sign the user in and answered with an error status. Check that the user's profile or permission set has access to the connected app, and the Salesforce login history for the reason."},
	{CodeIssuerMismatch, ClassRefused, "The response was issued by an identity provider other than the one saved for this account. Set the account's IdP issuer to the Issuer shown in Salesforce (Setup, Identity Provider), for example https://yourdomain.my.salesforce.com."},
	{CodeAudienceMismatch, ClassRefused, "The response is meant for another service provider. In the Salesforce connected app, set Entity Id to this account's Entity Id exactly as samlflex shows it."},
	{CodeDestinationMismatch, ClassRefused, "The response was sent to another address than this account's ACS URL. In the Salesforce connected app, set ACS URL to this account's ACS URL exactly as samlflex shows it."},
	{CodeRecipientMismatch, ClassRefused, "The assertion names another recipient than this account's ACS URL. In the Salesforce connected app, set ACS URL to this account's ACS URL exactly as samlflex shows it."},
	{CodeAssertionExpired, ClassRefused, "The SAML assertion has expired. Sign in again from the login link; if it keeps happening, check that the clocks of this server and of the identity provider are right, or raise the account's allowed clock skew."},
	{CodeAssertionNotYetValid, ClassRefused, "The SAML assertion is not valid yet: the clocks of this server and of the identity provider disagree. Check both clocks, or raise the account's allowed clock skew."},
	{CodeUnsolicitedNotAllowed, ClassRefused, "This login was started from Salesforce (IdP-initiated), and this account only accepts logins started from the samlflex login link. Use the login link, or allow IdP-initiated logins for the account."},
	{CodeInResponseToMismatch, ClassRefused, "The response answers another login request than the one this browser started. Start again from the login link, in one browser tab."},
	{CodeUnknownRequest, ClassRefused, "The response answers a login request that this browser did not start, or the login took too long. Start again from the login link, and check that the browser accepts cookies for this site."},
	{CodeAssertionReplayed, ClassConflict, "This SAML response has already been used to sign in. Each response is good for one login: start again from the login link."},
	{CodeAttributeMissing, ClassRefused, "The response lacks a value samlflex needs (the NameID or a required attribute). In the Salesforce connected app, set Subject Type to Username and add the custom attributes full_name and roles."},
	{CodeUnknownRole, ClassRefused, "The roles attribute names a role that Flex does not know. Use agent, supervisor, admin or a Flex Insights wfo.* role in the connected app's roles custom attribute."},
	{CodeNoRoles, ClassRefused, "The response carries no roles and the account has no default roles. Add the custom attribute roles (for example \"agent\") to the Salesforce connected app, or set default roles for the account."},
	{CodeInvalidConfig, ClassServer, "The samlflex account settings are not valid. Read this account's settings and save them again: samlflex names each setting that is wrong."},
	{CodeUnknownAccount, ClassNotFound, "There is no samlflex account with this Account SID. Check the login link or ACS URL, or create the account in samlflex."},
	{CodeStoreUnavailable, ClassUnavailable, "samlflex cannot reach its database right now, so nobody can sign in. Nothing was changed: try again in a minute."},
	{CodeKeysUnavailable, ClassUnavailable, "samlflex cannot load its signing keys right now. Nothing was changed: try again in a minute."},
	{CodeBadRequest, ClassInput, "The request is not one samlflex understands. Start again from the login link."},
	{CodeMethodNotAllowed, ClassNotAllowed, "This address does not accept that HTTP method."},
	{CodeNotFound, ClassNotFound, "There is nothing at this address."},
	{CodeInternal, ClassServer, "samlflex failed to handle this request. Nothing was changed: try again, and give the request ID to your administrator if it keeps happening."},
	{CodeVersionConflict, ClassConflict, "Someone else changed these account settings at the same time. Read them again and repeat your change."},
	{CodeFlexUnavailable, ClassUnavailable, "Flex is unavailable right now, so the sign-in could not finish. Nothing was changed: try again in a minute."},
	{CodeFlexCredentialsInvalid, ClassUpstream, "Twilio refused the credentials saved for this account (an API key, or the Account SID with its Auth Token). Create a new API key in the Twilio Console, or copy the current Auth Token, and save it in the account's flex settings; the Flex connection check says which credential Twilio accepts."},
	{CodeFlexInstanceNotFound, ClassUpstream, "Twilio does not know the Flex instance SID saved for this account. Copy the Flex instance SID (GO...) from the Twilio Console and save it as the account's flex.instance_sid."},
	{CodeFlexUserLimit, ClassUpstream, "Flex refused to create the user because a Twilio account limit is reached. Remove unused Flex users or ask Twilio to raise the limit."},
	{CodeFlexRejected, ClassUpstream, "Flex refused the user's data. The log names the field; check the roles and attributes sent by Salesforce."},
	{CodeResponseTooComplex, ClassInput, "The SAML response is more complex than samlflex accepts (too many XML elements, namespace declarations or attributes, too deep, or too long a value). Remove unneeded custom attributes (and long attribute values) from the Salesforce connected app."},
	{CodeAssertionTooOld, ClassRefused, "The SAML response was issued, or the user signed in to Salesforce, longer ago than this account accepts. Sign in again from the login link; if it keeps happening, check the clocks of this server and of the identity provider, or raise the account's maximum authentication age (max_authn_age)."},
	{CodeIdPInitiatedLoop, ClassRefused, "samlflex answered a login started from Salesforce (IdP-initiated) with a login request, and the identity provider answered with another unsolicited response instead of answering that request. Let the identity provider answer samlflex's login request (in Salesforce, use the connected app's default settings), or, only for an identity provider that cannot, set the account's idp_initiated to accept (unsafe: it allows login CSRF)."},
	{CodeServerBusy, ClassUnavailable, "samlflex is handling too many sign-ins at once right now. Nothing was changed: try again in a few seconds."},
}

// byCode indexes codes.
var byCode = func() map[Code]CodeInfo {
	m := make(map[Code]CodeInfo, len(codes))
	for _, c := range codes {
		m[c.Code] = c
	}
	return m
}()
