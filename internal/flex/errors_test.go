package flex

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   int
		want   samlflex.Code
		retry  retryRule
		advice string // a part of the admin advice
	}{
		{"20003 authenticate", 401, 20003, samlflex.CodeFlexCredentialsInvalid, retryNever, "samlflex account put"},
		{"45002 Flex authentication", 401, 45002, samlflex.CodeFlexCredentialsInvalid, retryNever, "45002"},
		{"45002 with 400", 400, 45002, samlflex.CodeFlexCredentialsInvalid, retryNever, "45002"},
		{"401 without code", 401, 0, samlflex.CodeFlexCredentialsInvalid, retryNever, "samlflex flex check"},
		{"20403 account suspended", 403, 20403, samlflex.CodeFlexCredentialsInvalid, retryNever, "account is active"},
		{"70051 restricted key", 403, 70051, samlflex.CodeFlexCredentialsInvalid, retryNever, "Standard API key"},
		{"45003 Flex authorization", 403, 45003, samlflex.CodeFlexCredentialsInvalid, retryNever, "Standard API key"},
		{"20404 not found", 404, 20404, samlflex.CodeFlexInstanceNotFound, retryNever, "instance SID"},
		{"404 without code", 404, 0, samlflex.CodeFlexInstanceNotFound, retryNever, "instance SID"},
		{"20429 throttled", 429, 20429, samlflex.CodeFlexUnavailable, retryAlways, "throttled"},
		{"429 without code", 429, 0, samlflex.CodeFlexUnavailable, retryAlways, "throttled"},
		{"45010 Flex rate limit", 429, 45010, samlflex.CodeFlexUnavailable, retryAlways, "throttled"},
		{"45780 with 429", 429, 45780, samlflex.CodeFlexUnavailable, retryAlways, "concurrency"},
		{"45780 with 400", 400, 45780, samlflex.CodeFlexUnavailable, retryAlways, "concurrency"},
		{"45796 with 409", 409, 45796, samlflex.CodeFlexUnavailable, retryAlways, "45796"},
		{"45796 with 400", 400, 45796, samlflex.CodeFlexUnavailable, retryAlways, "45796"},
		{"500", 500, 20500, samlflex.CodeFlexUnavailable, retryIfSafe, "status page"},
		{"503 without code", 503, 0, samlflex.CodeFlexUnavailable, retryIfSafe, "status page"},
		{"14240 is TaskRouter active workers", 400, 14240, samlflex.CodeFlexUnavailable, retryNever, "not a limit on Flex users"},
		{"59102 webhook configuration", 409, 59102, samlflex.CodeFlexUnavailable, retryNever, "webhook"},
		{"400 invalid parameter", 400, 0, samlflex.CodeFlexRejected, retryNever, "names the field"},
		{"409 conflict", 409, 20409, samlflex.CodeFlexRejected, retryConflict, "another login"},
		{"unknown code with 400", 400, 99999, samlflex.CodeFlexRejected, retryNever, "names the field"},
		{"unknown code with 503", 503, 99999, samlflex.CodeFlexUnavailable, retryIfSafe, "status page"},
		{"unknown code with 401", 401, 99999, samlflex.CodeFlexCredentialsInvalid, retryNever, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := classify(&APIError{Status: tt.status, Code: tt.code})
			if v.code != tt.want || v.retry != tt.retry {
				t.Errorf("classify(%d, %d) = %s/%d, want %s/%d", tt.status, tt.code, v.code, v.retry, tt.want, tt.retry)
			}
			if !strings.Contains(v.advice, tt.advice) {
				t.Errorf("advice %q lacks %q", v.advice, tt.advice)
			}
		})
	}
}

// TestTwilioCodesAgainstStandIn: each code, sent by the stand-in with
// the status it arrives with, ends a call with the mapped samlflex code,
// after the documented number of attempts, and with the advice in the
// error detail.
func TestTwilioCodesAgainstStandIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		op           string // provision, find, token
		status, code int
		want         samlflex.Code
		wantAttempts int // requests to the failing endpoint, including the one that succeeded
	}{
		{"45796 retried on a read", "find", 409, 45796, "", 2},
		{"45796 retried on provision", "provision", 409, 45796, "", 2},
		{"45796 with 400 still retried", "token", 400, 45796, "", 2},
		{"45780 with 429 retried", "find", 429, 45780, "", 2},
		{"45780 with 503 retried", "token", 503, 45780, "", 2},
		{"45002 not retried", "find", 401, 45002, samlflex.CodeFlexCredentialsInvalid, 1},
		{"20003 not retried", "provision", 401, 20003, samlflex.CodeFlexCredentialsInvalid, 1},
		{"14240 not retried, not a user limit", "provision", 400, 14240, samlflex.CodeFlexUnavailable, 1},
		{"59102 not retried, not a conflict", "provision", 409, 59102, samlflex.CodeFlexUnavailable, 1},
		{"unknown code, 500: retried", "find", 500, 99999, "", 2},
		{"unknown code, 400: refused", "find", 400, 99999, samlflex.CodeFlexRejected, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			ctx := t.Context()
			var sid string
			if tt.op == "token" {
				u, err := e.c.ProvisionUser(ctx, goodCreds, flextest.InstanceSID, alice())
				if err != nil {
					t.Fatal(err)
				}
				sid = u.FlexUserSID
			}
			e.srv.FailNext(1, tt.status, tt.code)
			var err error
			suffix := map[string]string{"find": "/Users", "provision": "/Users/Provision", "token": "/Tokens"}[tt.op]
			method := "POST"
			switch tt.op {
			case "find":
				method = "GET"
				_, _, err = e.c.FindUser(ctx, goodCreds, flextest.InstanceSID, "alice@example.com")
			case "provision":
				_, err = e.c.ProvisionUser(ctx, goodCreds, flextest.InstanceSID, alice())
			case "token":
				_, err = e.c.MintToken(ctx, goodCreds, flextest.InstanceSID, sid, time.Hour)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want success after a retry, got %v", err)
				}
			} else {
				wantCode(t, err, tt.want)
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Code != tt.code {
					t.Errorf("Twilio's code not reachable in %v", err)
				}
				if v := classify(apiErr); !strings.Contains(err.Error(), v.advice) {
					t.Errorf("advice missing from %v", err)
				}
			}
			if n := len(e.srv.RequestsTo(method, suffix)); n != tt.wantAttempts {
				t.Errorf("%d requests to %s, want %d", n, suffix, tt.wantAttempts)
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
	if samlflex.CodeOf(err) != samlflex.CodeFlexCredentialsInvalid {
		t.Errorf("CodeOf = %q for %v", samlflex.CodeOf(err), err)
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
