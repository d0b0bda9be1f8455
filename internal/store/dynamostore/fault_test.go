package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)

const testSID = samlflextest.AccountSID

// fastRetries keeps the SDK's retry loop (3 attempts, as in production) but
// with a 1ms backoff cap, so failure tests finish in milliseconds.
func fastRetries(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 3
		so.MaxBackoff = time.Millisecond
	})
}

// dynamoError answers like DynamoDB does for an API error (awsJson1.0).
func dynamoError(status int, code string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body := ""
		if code != "" {
			body = fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected by test"}`, code)
		}
		writeDynamoBody(w.Header(), body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// writeDynamoBody sets the headers DynamoDB sends with a body. The SDK
// checks X-Amz-Crc32 (treating a missing header as 0) and logs a warning
// on mismatch, which would bury the test output.
func writeDynamoBody(h http.Header, body string) {
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
}

// closedEndpoint returns the URL of a loopback port with no listener.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	return "http://" + samlflextest.FreeAddr(t)
}

// ops runs every Store method; each must fail against a broken backend.
func ops(s *Store) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Get": func(ctx context.Context) error { _, err := s.Get(ctx, testSID); return err },
		"Put": func(ctx context.Context) error {
			_, err := s.Put(ctx, accountFixture(), 1, t0)
			return err
		},
		"List":     func(ctx context.Context) error { _, err := s.List(ctx); return err },
		"Delete":   func(ctx context.Context) error { return s.Delete(ctx, testSID) },
		"MarkUsed": func(ctx context.Context) error { return s.MarkUsed(ctx, testSID+"#_id", t0.Add(time.Minute), t0) },
	}
}

func TestBackendFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// handler answers every request; nil means nothing listens.
		handler         http.HandlerFunc
		wantUnavailable bool
		wantRetried     bool
	}{
		{"InternalServerError", dynamoError(500, "InternalServerError"), true, true},
		{"Unmodeled503", dynamoError(503, ""), true, true},
		{"BadGateway", dynamoError(502, ""), true, true},
		{"Throttling", dynamoError(400, "ThrottlingException"), true, true},
		{"ProvisionedThroughputExceeded", dynamoError(400, "ProvisionedThroughputExceededException"), true, true},
		{"RequestLimitExceeded", dynamoError(400, "RequestLimitExceeded"), true, true},
		{"ConnectionRefused", nil, true, false},
		{"ConnectionDropped", func(w http.ResponseWriter, r *http.Request) {
			// Hijack and close: the client sees EOF mid-request.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, true, true},
		// Errors that retrying cannot fix are not "unavailable": they are
		// bugs or misconfiguration, and the HTTP layer shows 500 for them.
		{"ValidationException", dynamoError(400, "ValidationException"), false, false},
		{"TableMissing", dynamoError(400, "ResourceNotFoundException"), false, false},
		{"AccessDenied", dynamoError(400, "AccessDeniedException"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			endpoint := closedEndpoint(t)
			if tc.handler != nil {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					requests.Add(1)
					tc.handler(w, r)
				}))
				t.Cleanup(srv.Close)
				endpoint = srv.URL
			}
			client, err := dynamoclient.New(t.Context(), endpoint, fastRetries)
			if err != nil {
				t.Fatal(err)
			}
			s := New(client, Tables{Accounts: "accounts", Assertions: "assertions"})
			for name, op := range ops(s) {
				requests.Store(0)
				start := time.Now()
				err := op(t.Context())
				elapsed := time.Since(start)
				if err == nil {
					t.Fatalf("%s: no error", name)
				}
				if got := errors.Is(err, store.ErrUnavailable); got != tc.wantUnavailable {
					t.Errorf("%s: errors.Is(%v, ErrUnavailable) = %v, want %v", name, err, got, tc.wantUnavailable)
				}
				assertNoLeaks(t, name, err)
				if elapsed > 2*time.Second {
					t.Errorf("%s: took %s", name, elapsed)
				}
				if n := requests.Load(); tc.wantRetried && n < 2 {
					t.Errorf("%s: server saw %d attempts; the SDK should have retried first", name, n)
				}
			}
		})
	}
}

// assertNoLeaks checks the error contract of the package: only store
// sentinels and stdlib errors in the chain, never an SDK type, and no
// store sentinel that would turn an outage into an answer.
func assertNoLeaks(t *testing.T, op string, err error) {
	t.Helper()
	var (
		apiErr  smithy.APIError
		opErr   *smithy.OperationError
		respErr *smithyhttp.ResponseError
		sendErr *smithyhttp.RequestSendError
		maxErr  *retry.MaxAttemptsError
	)
	for name, ok := range map[string]bool{
		"smithy.APIError":                 errors.As(err, &apiErr),
		"*smithy.OperationError":          errors.As(err, &opErr),
		"*smithyhttp.ResponseError":       errors.As(err, &respErr),
		"*smithyhttp.RequestSendError":    errors.As(err, &sendErr),
		"*retry.MaxAttemptsError":         errors.As(err, &maxErr),
		"store.ErrNotFound":               errors.Is(err, store.ErrNotFound),
		"store.ErrAlreadyExists":          errors.Is(err, store.ErrAlreadyExists),
		"store.ErrVersionConflict":        errors.Is(err, store.ErrVersionConflict),
		"context.Canceled (not a cancel)": errors.Is(err, context.Canceled),
	} {
		if ok {
			t.Errorf("%s: error %v exposes %s", op, err, name)
		}
	}
	if !strings.HasPrefix(err.Error(), "dynamostore: ") {
		t.Errorf("%s: error %q does not say where it came from", op, err)
	}
}

func TestDeadlineIsUnavailable(t *testing.T) {
	t.Parallel()
	// A server that never answers: only the caller's deadline (in
	// production, the Lambda's) ends the call.
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	client, err := dynamoclient.New(t.Context(), srv.URL, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	s := New(client, Tables{Accounts: "accounts", Assertions: "assertions"})
	for name, op := range ops(s) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		err := op(ctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %v, want ErrUnavailable and context.DeadlineExceeded", name, err)
		}
	}
}

func TestNewClientRejectsBadEndpoint(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"127.0.0.1:4567", "ftp://127.0.0.1", "http://"} {
		if _, err := dynamoclient.New(t.Context(), ep); err == nil {
			t.Errorf("dynamoclient.New(%q) succeeded", ep)
		}
	}
}

func TestTTLSecondsRoundsUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   time.Time
		want int64
	}{
		{"WholeSecond", t0, t0.Unix()},
		{"OneNanoLater", t0.Add(time.Nanosecond), t0.Unix() + 1},
		{"JustBeforeNext", t0.Add(time.Second - time.Nanosecond), t0.Unix() + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ttlSeconds(tc.in); got != tc.want {
				t.Errorf("ttlSeconds = %d, want %d", got, tc.want)
			}
		})
	}
}

func accountFixture() samlflex.Account {
	return samlflex.Account{AccountSID: testSID, FriendlyName: "fixture", StartURL: "https://flex.twilio.com/agent-desktop"}
}
