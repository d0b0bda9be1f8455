package flex

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Twilio error codes that this package acts on, each from its page in
// Twilio's error dictionary (titles in docs/flex.md). Codes not listed fall
// back to the class of the HTTP status.
const (
	twilioAuthenticate       = 20003 // "Permission Denied": wrong or deleted credentials
	twilioForbidden          = 20403 // "403 Forbidden": account suspended or closed
	twilioNotFound           = 20404 // resource not found
	twilioConflict           = 20409 // "Conflict"
	twilioTooManyRequests    = 20429 // "Too many requests": not processed, safe to retry
	twilioFlexAuthentication = 45002 // Flex "Authentication Error"
	twilioFlexAuthorization  = 45003 // Flex "Authorization Error"
	twilioFlexRateLimit      = 45010 // Flex "Rate Limit Exceeded"
	twilioFlexConcurrency    = 45780 // Flex "too many concurrent API requests": retry with backoff
	twilioFlexStateConflict  = 45796 // Flex "conflict with the state of the resource": retry
	twilioAuthorizationFail  = 70051 // "Authorization Failed": restricted key lacks a permission
	twilioMaxWorkersExceeded = 14240 // TaskRouter "Max concurrent Workers exceeded": active workers
	twilioWebhookConfig      = 59102 // a webhooks configuration error, unrelated to these calls
)

// retryRule says when an answer may be sent again.
type retryRule int

const (
	retryNever    retryRule = iota
	retryAlways             // documented as not processed or as "retry the request", whatever the status
	retryIfSafe             // 5xx: Twilio may have acted, so only requests marked retrySafe
	retryConflict           // 409: only Provision (see "Find-or-create" in doc.go)
)

// verdict is what samlflex makes of one Twilio answer: the samlflex code,
// whether to retry, and what the admin should do (it goes into the error
// detail, which the log and `samlflex flex check` show).
type verdict struct {
	code   samlflex.Code
	retry  retryRule
	advice string
}

// classify maps a Twilio answer. Twilio's code wins over the HTTP status
// because it is more specific, and the retryable codes are retried whatever
// status they arrive with; anything else falls back to the status class.
func classify(e *APIError) verdict {
	const saveCreds = " Save working credentials with `samlflex account put` and confirm with `samlflex flex check`."
	switch e.Code {
	case twilioAuthenticate:
		return verdict{samlflex.CodeFlexCredentialsInvalid, retryNever,
			"Twilio refused the credentials (20003): a wrong or deleted API key or Auth Token, a key of another account or region, or extra spaces." + saveCreds}
	case twilioFlexAuthentication:
		return verdict{samlflex.CodeFlexCredentialsInvalid, retryNever,
			"Flex refused the credentials (45002): missing, wrong, expired or revoked, or without access to this Flex instance." + saveCreds}
	case twilioForbidden:
		return verdict{samlflex.CodeFlexCredentialsInvalid, retryNever,
			"Twilio refused access (20403): check in the Twilio Console that the account is active and the credentials belong to it." + saveCreds}
	case twilioFlexAuthorization, twilioAuthorizationFail:
		return verdict{samlflex.CodeFlexCredentialsInvalid, retryNever,
			fmt.Sprintf("The credentials may not use the Flex APIs (%d): a restricted API key lacks a Flex permission; use a Standard API key or the Auth Token.", e.Code) + saveCreds}
	case twilioNotFound:
		return verdict{samlflex.CodeFlexInstanceNotFound, retryNever,
			"Twilio does not know the resource (20404): check the Flex instance SID (GO…, Twilio Console, Flex, Overview) with `samlflex flex check`."}
	case twilioTooManyRequests, twilioFlexRateLimit, twilioFlexConcurrency:
		return verdict{samlflex.CodeFlexUnavailable, retryAlways,
			fmt.Sprintf("Twilio throttled the request (%d); samlflex retried with backoff. If it persists, other software is using this account's API concurrency: ask Twilio about the limit.", e.Code)}
	case twilioFlexStateConflict:
		return verdict{samlflex.CodeFlexUnavailable, retryAlways,
			"Flex reported a conflicting concurrent change (45796); samlflex retried. If it persists, look for another tool changing the same Flex user."}
	case twilioMaxWorkersExceeded:
		// A limit on concurrently *active* TaskRouter workers, not on Flex
		// users: it clears when workers go offline, not within a login.
		return verdict{samlflex.CodeFlexUnavailable, retryNever,
			"TaskRouter's workspace has reached its limit of concurrently active workers (14240); this is not a limit on Flex users. Move idle workers to an unavailable activity such as Offline, or ask Twilio to raise the workspace limit."}
	case twilioWebhookConfig:
		return verdict{samlflex.CodeFlexUnavailable, retryNever,
			"Twilio reported a webhook configuration error (59102), which samlflex's calls do not configure: check this account's webhooks in the Twilio Console and Twilio's debugger."}
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return verdict{samlflex.CodeFlexCredentialsInvalid, retryNever,
			fmt.Sprintf("Twilio answered HTTP %d: the credentials are not accepted.", e.Status) + saveCreds}
	case e.Status == http.StatusNotFound:
		return verdict{samlflex.CodeFlexInstanceNotFound, retryNever,
			"Twilio answered HTTP 404: check the Flex instance SID with `samlflex flex check`."}
	case e.Status == http.StatusTooManyRequests:
		return verdict{samlflex.CodeFlexUnavailable, retryAlways,
			"Twilio throttled the request (HTTP 429); samlflex retried with backoff."}
	case e.Status == http.StatusConflict || e.Code == twilioConflict:
		return verdict{samlflex.CodeFlexRejected, retryConflict,
			"Twilio reported a conflict: another login was changing the same Flex user; samlflex retried within its time budget."}
	case e.Status >= 500:
		return verdict{samlflex.CodeFlexUnavailable, retryIfSafe,
			fmt.Sprintf("Twilio failed (HTTP %d); samlflex retried what was safe to retry. Check Twilio's status page and try again later.", e.Status)}
	default:
		return verdict{samlflex.CodeFlexRejected, retryNever,
			fmt.Sprintf("Twilio refused the request (HTTP %d); its message names the field.", e.Status)}
	}
}

// APIError is a non-2xx answer from Twilio, in the documented exception
// shape. It is the Err inside the *samlflex.Error that a call returns, so
// callers (the check command) can show Twilio's code with errors.As.
type APIError struct {
	Status   int    `json:"status"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

// Error renders the answer for logs. Twilio's message is truncated; it
// never contains our credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code != 0 {
		fmt.Fprintf(&b, ", Twilio error %d", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.MoreInfo != "" {
		fmt.Fprintf(&b, " (%s)", e.MoreInfo)
	}
	return b.String()
}

// parseAPIError reads an error body. Bodies that are not Twilio JSON (an
// HTML page from a proxy) keep only the status.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{}
	if json.Unmarshal(body, e) != nil {
		e = &APIError{}
	}
	e.Status = status // the header is authoritative
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.Message = truncate(e.Message, 300)
	e.MoreInfo = truncate(e.MoreInfo, 200)
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// apiFailure wraps a Twilio answer into the error a call returns; the
// admin advice follows Twilio's own message in the detail.
func apiFailure(op string, e *APIError, v verdict) *samlflex.Error {
	return samlflex.Errorf(v.code, "flex %s: %w. %s", op, e, v.advice)
}
