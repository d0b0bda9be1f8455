package flex

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Twilio error codes that this package acts on. Each is from Twilio's error
// pages (see doc.go); the Flex-user-limit mapping is unconfirmed.
const (
	twilioAuthenticate       = 20003 // 401 Permission Denied: bad key SID / secret
	twilioForbidden          = 20403 // 403: account suspended or closed
	twilioNotFound           = 20404
	twilioConflict           = 20409 // resource changed concurrently
	twilioTooManyRequests    = 20429
	twilioFlexAuthorization  = 45003 // Flex: credentials lack access
	twilioFlexRateLimit      = 45010 // Flex: rate limit exceeded
	twilioTransactionClash   = 59102 // 409: concurrent change, safe to retry
	twilioAuthorizationFail  = 70051 // restricted API key lacks a permission
	twilioMaxWorkersExceeded = 14240 // TaskRouter; UNCONFIRMED as the Flex user limit
)

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

// retryableStatus: Twilio documents 429 as never processed and safe to
// retry; 5xx are Twilio-side failures. Every other 4xx would fail the same
// way again, so it is returned at once.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// isConflict reports a racing change (see "Find-or-create" in doc.go).
func isConflict(e *APIError) bool {
	return e.Status == http.StatusConflict || e.Code == twilioConflict || e.Code == twilioTransactionClash
}

// codeFor maps a Twilio answer to a samlflex code. Twilio's code wins over
// the HTTP status because it is more specific.
func codeFor(e *APIError) samlflex.Code {
	switch e.Code {
	case twilioAuthenticate, twilioForbidden, twilioAuthorizationFail, twilioFlexAuthorization:
		return samlflex.CodeFlexCredentialsInvalid
	case twilioMaxWorkersExceeded:
		return samlflex.CodeFlexUserLimit
	case twilioTooManyRequests, twilioFlexRateLimit:
		return samlflex.CodeFlexUnavailable
	case twilioNotFound:
		return samlflex.CodeFlexInstanceNotFound
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return samlflex.CodeFlexCredentialsInvalid
	case e.Status == http.StatusNotFound:
		return samlflex.CodeFlexInstanceNotFound
	case retryableStatus(e.Status):
		return samlflex.CodeFlexUnavailable
	default:
		return samlflex.CodeFlexRejected
	}
}

// apiFailure wraps a Twilio answer into the error a call returns.
func apiFailure(op string, e *APIError) *samlflex.Error {
	return samlflex.Errorf(codeFor(e), "flex %s: %w", op, e)
}
