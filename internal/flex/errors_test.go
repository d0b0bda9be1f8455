package flex

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestCodeFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   int
		want   samlflex.Code
	}{
		{"20003 authenticate", 401, 20003, samlflex.CodeFlexCredentialsInvalid},
		{"401 without code", 401, 0, samlflex.CodeFlexCredentialsInvalid},
		{"20403 account suspended", 403, 20403, samlflex.CodeFlexCredentialsInvalid},
		{"70051 restricted key", 403, 70051, samlflex.CodeFlexCredentialsInvalid},
		{"45003 Flex authorization", 403, 45003, samlflex.CodeFlexCredentialsInvalid},
		{"20404 not found", 404, 20404, samlflex.CodeFlexInstanceNotFound},
		{"404 without code", 404, 0, samlflex.CodeFlexInstanceNotFound},
		{"20429 throttled", 429, 20429, samlflex.CodeFlexUnavailable},
		{"45010 Flex rate limit", 429, 45010, samlflex.CodeFlexUnavailable},
		{"500", 500, 20500, samlflex.CodeFlexUnavailable},
		{"503 without code", 503, 0, samlflex.CodeFlexUnavailable},
		{"14240 user limit (unconfirmed)", 400, 14240, samlflex.CodeFlexUserLimit},
		{"400 invalid parameter", 400, 0, samlflex.CodeFlexRejected},
		{"409 conflict", 409, 20409, samlflex.CodeFlexRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := codeFor(&APIError{Status: tt.status, Code: tt.code}); got != tt.want {
				t.Errorf("codeFor(%d, %d) = %s, want %s", tt.status, tt.code, got, tt.want)
			}
		})
	}
}

func TestParseAPIError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   APIError
	}{
		{"documented body", 401,
			`{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`,
			APIError{Status: 401, Code: 20003, Message: "Authenticate", MoreInfo: "https://www.twilio.com/docs/errors/20003"}},
		{"code absent", 404, `{"status": 404, "message": "The requested resource was not found"}`,
			APIError{Status: 404, Message: "The requested resource was not found"}},
		{"HTML from a proxy", 502, `<html>Bad Gateway</html>`, APIError{Status: 502, Message: "Bad Gateway"}},
		{"status in body disagrees", 500, `{"status": 200, "code": 20500}`,
			APIError{Status: 500, Code: 20500, Message: "Internal Server Error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := parseAPIError(tt.status, []byte(tt.body)); *got != tt.want {
				t.Errorf("parseAPIError = %+v, want %+v", *got, tt.want)
			}
		})
	}
	long := parseAPIError(400, []byte(`{"message":"`+strings.Repeat("é", 400)+`"}`))
	if len(long.Message) > 310 || !strings.HasSuffix(long.Message, "…") {
		t.Errorf("long message not truncated: %d bytes", len(long.Message))
	}
}

// The Twilio answer stays reachable behind the *samlflex.Error, for the
// check command to show.
func TestAPIErrorReachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	e.srv.RejectCredentials(true)
	_, err := e.c.Check(t.Context(), goodCreds, flextest.InstanceSID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 20003 || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("errors.As(APIError) = %+v from %v", apiErr, err)
	}
	if !errors.Is(err, &samlflex.Error{Code: samlflex.CodeFlexCredentialsInvalid}) {
		t.Errorf("errors.Is(code) false for %v", err)
	}
}

// Twilio may echo the username or email in a message; error details are
// logged, so they must not carry them.
func TestTwilioMessageRedacted(t *testing.T) {
	t.Parallel()
	srv := newStaticServer(t, http.StatusBadRequest,
		`{"status":400,"message":"User alice@example.com (Alice Example) is invalid","code":20001}`)
	c, err := New(Options{BaseURL: srv})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ProvisionUser(t.Context(), goodCreds, flextest.InstanceSID, alice())
	wantCode(t, err, samlflex.CodeFlexRejected)
	if s := err.Error(); strings.Contains(s, "alice@") || strings.Contains(s, "Alice Example") || !strings.Contains(s, "[redacted]") {
		t.Errorf("error detail = %q", s)
	}
	_, _, err = c.FindUser(t.Context(), goodCreds, flextest.InstanceSID, "alice@example.com")
	if s := err.Error(); strings.Contains(s, "alice@") {
		t.Errorf("error detail = %q", s)
	}
}
