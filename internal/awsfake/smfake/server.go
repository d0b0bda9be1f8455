package smfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Staging labels with a meaning to Secrets Manager.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

// Fixed identity of the fake: ARNs look real but name no real account.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// maxSecretSize is the service's limit on SecretString/SecretBinary.
const maxSecretSize = 65536

// FaultMode says how an injected fault fails a request.
type FaultMode int

const (
	// FailBefore answers 500 InternalServiceError without applying the
	// request.
	FailBefore FaultMode = iota
	// FailAfter applies the request, then answers 500 as if the response
	// had been lost: the case that makes idempotency matter.
	FailAfter
	// Throttle answers 400 ThrottlingException without applying.
	Throttle
)

// String names the mode in test names.
func (m FaultMode) String() string {
	switch m {
	case FailBefore:
		return "fail-before"
	case FailAfter:
		return "fail-after"
	case Throttle:
		return "throttle"
	}
	return fmt.Sprintf("FaultMode(%d)", int(m))
}

type fault struct {
	op    string // "" matches every operation
	mode  FaultMode
	skip  int // matching requests to let through first
	times int
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	ts *httptest.Server
	tb testing.TB

	mu       sync.Mutex
	now      func() time.Time
	secrets  map[string]*secret // by name
	requests map[string]int     // by operation, including failed ones
	faults   []*fault
	pauses   []*Pause
	down     bool
}

type secret struct {
	name, arn         string
	created           time.Time
	rotationEnabled   bool
	rotationLambdaARN string
	rotationDays      *int64
	versions          map[string]*version
	order             []string // version IDs in creation order
}

type version struct {
	id      string
	created time.Time
	// hasValue is false for the version RotateSecret creates: it exists and
	// carries AWSPENDING, but GetSecretValue answers ResourceNotFound.
	hasValue bool
	str      *string
	bin      []byte
	stages   []string
}

// New starts a fake on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		tb:       t,
		now:      time.Now,
		secrets:  map[string]*secret{},
		requests: map[string]int{},
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.ts.Close)
	return s
}

// URL is the endpoint to give the SDK (BaseEndpoint).
func (s *Server) URL() string { return s.ts.URL }

// SetNow sets the clock used for CreatedDate.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Requests returns how many requests for op ("GetSecretValue", ...) arrived,
// failed ones and SDK retries included; op "" counts all.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		n := 0
		for _, c := range s.requests {
			n += c
		}
		return n
	}
	return s.requests[op]
}

// Fail makes the next `times` requests for op ("" = any) fail with mode.
func (s *Server) Fail(op string, mode FaultMode, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{op: op, mode: mode, times: times})
}

// FailLater lets `skip` requests for op ("" = any) through, then fails the
// next one with mode: for failing the second UpdateSecretVersionStage of a
// step, say.
func (s *Server) FailLater(op string, mode FaultMode, skip int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{op: op, mode: mode, skip: skip, times: 1})
}

// SetDown makes every request answer 500 (true) until set back (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Version is a snapshot of one secret version, for assertions.
type Version struct {
	ID       string
	Stages   []string
	HasValue bool
	Value    string
}

// Versions returns every version of the secret (name or ARN) in creation
// order, labelled or not.
func (s *Server) Versions(secretID string) []Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.lookup(secretID)
	if sec == nil {
		return nil
	}
	out := make([]Version, 0, len(sec.order))
	for _, id := range sec.order {
		v := sec.versions[id]
		snap := Version{ID: id, Stages: slices.Clone(v.stages), HasValue: v.hasValue}
		if v.str != nil {
			snap.Value = *v.str
		}
		slices.Sort(snap.Stages)
		out = append(out, snap)
	}
	return out
}

// apiError is an error answer of the service.
type apiError struct {
	status  int
	typ     string
	message string
}

func errNotFound(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf(format, args...)}
}

func errInvalidParameter(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, args...)}
}

// errVersionExists is the service's answer to PutSecretValue with a
// ClientRequestToken that names a version holding other data.
func errVersionExists() *apiError {
	return &apiError{http.StatusBadRequest, "ResourceExistsException", "You can't modify an existing version, you can only create a new version."}
}

func errInvalidRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidRequestException", fmt.Sprintf(format, args...)}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op, apiErr := checkEnvelope(r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", "cannot read body"})
		return
	}

	p := s.arrive(op)
	if p != nil && p.point == BeforeApply {
		p.hold(r.Context())
	}
	b, apiErr := s.apply(op, body)
	if p != nil && p.point == AfterApply {
		p.hold(r.Context())
	}
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("fake-%08x", rand.Uint32()))
	_, _ = w.Write(b)
}

// arrive counts a request and takes the pause that matches it, if any.
func (s *Server) arrive(op string) *Pause {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[op]++
	return s.takePause(op)
}

// apply runs one request under the lock, so that requests are atomic and
// serialized as in the service, and returns the encoded answer.
func (s *Server) apply(op string, body []byte) ([]byte, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, &apiError{http.StatusInternalServerError, "InternalServiceError", "fake: service down"}
	}
	mode, faulty := s.takeFault(op)
	if faulty && mode != FailAfter {
		if mode == Throttle {
			return nil, &apiError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
		}
		return nil, &apiError{http.StatusInternalServerError, "InternalServiceError", "fake: injected failure"}
	}
	out, apiErr := s.dispatch(op, body)
	if faulty { // FailAfter: the change is applied, the answer is lost.
		return nil, &apiError{http.StatusInternalServerError, "InternalServiceError", "fake: injected failure after applying"}
	}
	if apiErr != nil {
		return nil, apiErr
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalServiceError", err.Error()}
	}
	return b, nil
}

// checkEnvelope enforces what the real endpoint rejects: a non-POST, a wrong
// content type, an unsigned request, an unknown target.
func checkEnvelope(r *http.Request) (string, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return "", &apiError{http.StatusNotFound, "UnknownOperationException", "only POST / is served"}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return "", &apiError{http.StatusBadRequest, "SerializationException", "Content-Type must be application/x-amz-json-1.1, got " + ct}
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return "", &apiError{http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	if !ok || op == "" {
		return "", &apiError{http.StatusBadRequest, "UnknownOperationException", "unknown X-Amz-Target"}
	}
	return op, nil
}

func (s *Server) takeFault(op string) (FaultMode, bool) {
	for i, f := range s.faults {
		if f.op == "" || f.op == op {
			if f.skip > 0 {
				f.skip--
				return 0, false
			}
			f.times--
			if f.times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f.mode, true
		}
	}
	return 0, false
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.typ)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "Message": e.message})
}

func (s *Server) dispatch(op string, body []byte) (any, *apiError) {
	switch op {
	case "CreateSecret":
		return handle(body, s.createSecret)
	case "DescribeSecret":
		return handle(body, s.describeSecret)
	case "GetSecretValue":
		return handle(body, s.getSecretValue)
	case "PutSecretValue":
		return handle(body, s.putSecretValue)
	case "UpdateSecretVersionStage":
		return handle(body, s.updateSecretVersionStage)
	case "RotateSecret":
		return handle(body, s.rotateSecret)
	default:
		return nil, &apiError{http.StatusBadRequest, "UnknownOperationException", "fake does not implement " + op}
	}
}

// handle decodes the JSON body into In and calls fn.
func handle[In any](body []byte, fn func(*In) (any, *apiError)) (any, *apiError) {
	var in In
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, &apiError{http.StatusBadRequest, "SerializationException", "cannot decode request: " + err.Error()}
		}
	}
	return fn(&in)
}

// lookup finds a secret by name or full ARN.
func (s *Server) lookup(id string) *secret {
	if sec, ok := s.secrets[id]; ok {
		return sec
	}
	for _, sec := range s.secrets {
		if sec.arn == id {
			return sec
		}
	}
	return nil
}

func (s *Server) mustLookup(id *string) (*secret, *apiError) {
	if id == nil || *id == "" {
		return nil, errInvalidParameter("SecretId is required")
	}
	sec := s.lookup(*id)
	if sec == nil {
		return nil, errNotFound("Secrets Manager can't find the specified secret.")
	}
	return sec, nil
}

// epoch renders a timestamp the way AWS JSON protocols do: seconds since
// the epoch as a number.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func checkToken(tok *string) *apiError {
	if tok != nil && (len(*tok) < 32 || len(*tok) > 64) {
		return errInvalidParameter("ClientRequestToken must be 32 to 64 characters long")
	}
	return nil
}

func randomToken() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		default:
			b[i] = hex[rand.IntN(16)]
		}
	}
	return string(b)
}
