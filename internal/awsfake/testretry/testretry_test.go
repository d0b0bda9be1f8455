package testretry_test

import (
	"bytes"
	"context"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
)

// TestClosedConnection: the error OneAttempt retries is recognised inside
// the SDK's wrapping of a failed body read, and an injected fault (a 500)
// is not.
func TestClosedConnection(t *testing.T) {
	t.Parallel()
	read := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	wrapped := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusOK}},
		Err:      &smithy.DeserializationError{Err: read},
	}}
	if got := testretry.ClosedConnection(wrapped); got != aws.TrueTernary {
		t.Errorf("a closed connection while reading a 200: %v, want retried", got)
	}
	injected := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusInternalServerError}},
		Err:      &smithy.GenericAPIError{Code: "InternalServiceError"},
	}}
	if got := testretry.ClosedConnection(injected); got != aws.FalseTernary {
		t.Errorf("an injected 500: %v, want not retried", got)
	}
}

// server answers every request with body (an empty result of the
// operations below), except that the first closed requests get a 500 if
// fail is set, and otherwise a 200 whose body never ends: the client's
// end of those connections is closed once their headers are read (see
// closingClient), as net/http's race does.
type server struct {
	body   string
	closed int
	fail   bool
	srv    *httptest.Server

	requests atomic.Int32
}

func newServer(t *testing.T, closed int, fail bool, body string) *server {
	t.Helper()
	s := &server{body: body, closed: closed, fail: fail}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve)) // on 127.0.0.1
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	n := int(s.requests.Add(1))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch {
	case n > s.closed:
		writeJSON(w, http.StatusOK, s.body)
	case s.fail:
		writeJSON(w, http.StatusInternalServerError, `{"__type":"InternalServiceError","message":"injected"}`)
	default:
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte(`{"`))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client closed the connection
	}
}

// writeJSON answers body with its CRC32, which the DynamoDB client checks.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// closingClient sends over connections that close themselves (as
// net.Conn.Close, so that reads fail with net.ErrClosed) once they have
// read the end of an answer's headers.
func closingClient(t *testing.T) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &closingConn{Conn: c}, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

type closingConn struct {
	net.Conn
	seen []byte
}

func (c *closingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.seen = append(c.seen, p[:n]...)
	if bytes.Contains(c.seen, []byte("Content-Length: 1000\r\n")) && bytes.Contains(c.seen, []byte("\r\n\r\n")) {
		_ = c.Conn.Close()
	}
	return n, err
}

// client is the operation under test through a real SDK client with
// retryer, sending with hc.
type client struct {
	name string
	body string
	call func(t *testing.T, endpoint string, hc *http.Client, retryer aws.Retryer) error
}

var clients = []client{
	{"secretsmanager", `{"SecretList":[]}`, func(t *testing.T, endpoint string, hc *http.Client, retryer aws.Retryer) error {
		c := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: hc, Retryer: retryer, Logger: logging.Nop{}})
		_, err := c.ListSecrets(t.Context(), &secretsmanager.ListSecretsInput{})
		return err
	}},
	// As the tests build theirs: from an aws.Config, where
	// AWS_MAX_ATTEMPTS would set RetryMaxAttempts.
	{"dynamoclient", `{"TableNames":[]}`, func(t *testing.T, endpoint string, hc *http.Client, retryer aws.Retryer) error {
		c, err := dynamoclient.New(t.Context(), endpoint, func(o *dynamodb.Options) {
			o.HTTPClient, o.Retryer, o.RetryMaxAttempts = hc, retryer, 0
			o.Logger = logging.Nop{} // not the warnings about the closed bodies
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListTables(t.Context(), &dynamodb.ListTablesInput{})
		return err
	}},
}

// TestThroughClients: through real SDK clients, OneAttempt retries a
// connection closed while a 200 is read, up to ClosedAttempts attempts,
// and does not retry a 500; Attempts(n) retries a 500.
func TestThroughClients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		retryer      func() aws.Retryer
		closed       int
		fail         bool
		wantErr      bool
		wantRequests int
	}{
		{"closed once, retried", testretry.OneAttempt, 1, false, false, 2},
		{"closed every time, gives up", testretry.OneAttempt, testretry.ClosedAttempts, false, true, testretry.ClosedAttempts},
		{"500, not retried", testretry.OneAttempt, 1, true, true, 1},
		{"500 with Attempts(2), retried", func() aws.Retryer { return testretry.Attempts(2) }, 1, true, false, 2},
	}
	for _, c := range clients {
		for _, tt := range tests {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s := newServer(t, tt.closed, tt.fail, c.body)
				err := c.call(t, s.srv.URL, closingClient(t), tt.retryer())
				if (err != nil) != tt.wantErr {
					t.Errorf("err = %v, want error %v", err, tt.wantErr)
				}
				if got := int(s.requests.Load()); got != tt.wantRequests {
					t.Errorf("%d requests, want %d (err %v)", got, tt.wantRequests, err)
				}
			})
		}
	}
}

// TestDynamoclientMaxAttemptsEnv: the tests' DynamoDB clients, built from
// an aws.Config, still retry a closed connection when AWS_MAX_ATTEMPTS is
// set (it sets RetryMaxAttempts, which would wrap the Retryer).
func TestDynamoclientMaxAttemptsEnv(t *testing.T) {
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	for _, c := range clients {
		if c.name != "dynamoclient" {
			continue
		}
		s := newServer(t, 1, false, c.body)
		if err := c.call(t, s.srv.URL, closingClient(t), testretry.OneAttempt()); err != nil {
			t.Errorf("err = %v", err)
		}
		if got := s.requests.Load(); got != 2 {
			t.Errorf("%d requests, want 2", got)
		}
	}
}
