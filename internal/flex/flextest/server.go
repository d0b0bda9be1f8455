package flextest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The account the server answers for. Requests must authenticate with
// APIKeySID:APISecret and name InstanceSID.
const (
	AccountSID   = "AC00000000000000000000000000000001"
	InstanceSID  = "GO00000000000000000000000000000001"
	WorkspaceSID = "WS00000000000000000000000000000001"
	TeamSID      = "QO00000000000000000000000000000001"
	APIKeySID    = "SK00000000000000000000000000000001"
	APISecret    = "flextest-api-secret-d41d8cd98f00b204"
)

// UserLimitCode is the Twilio code SetUserLimit answers with. UNCONFIRMED:
// Twilio documents no Flex user-limit error; 14240 is TaskRouter's "Max
// concurrent Workers exceeded".
const UserLimitCode = 14240

// Options tune the server. The zero value is a plain, fast server.
type Options struct {
	// Now stamps users and token expirations. Default time.Now.
	Now func() time.Time
	// CreateDelay holds every first Provision of a username this long
	// before the user is stored, so concurrent first logins overlap.
	CreateDelay time.Duration
	// ConflictOnRace answers 409 (Twilio 20409) to a Provision whose
	// username another request is creating, instead of waiting for it.
	ConflictOnRace bool
	// HoldCreate, when set, is called after a first Provision of a
	// username is marked as being created and before the user is stored;
	// the create waits for it to return. Tests use it to keep a create in
	// flight until racing requests have certainly arrived, instead of
	// relying on CreateDelay being long enough.
	HoldCreate func(username string)
}

// Request is one recorded request.
type Request struct {
	Method      string
	Path        string
	Query       url.Values
	ContentType string
	// Authorization is the raw header; BasicUser and BasicPassword its
	// decoded form (BasicOK false when it was not basic auth).
	Authorization string
	BasicUser     string
	BasicPassword string
	BasicOK       bool
	Body          []byte
	// Status is what the server answered.
	Status int
}

// JSON decodes the body into a map (nil if it is not a JSON object).
func (r Request) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// User is a stored Flex user.
type User struct {
	FlexUserSID string
	WorkerSID   string
	Username    string
	FullName    string
	Email       string
	Roles       []string
	// Worker is the "worker" object of the last Provision, as sent.
	Worker      json.RawMessage
	Version     int
	Deactivated bool
	Created     time.Time
	Updated     time.Time
}

// MintedToken is a token the server handed out.
type MintedToken struct {
	AccessToken string
	FlexUserSID string
	Username    string
	TTL         int64
	Expiration  time.Time
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give flex.Options.BaseURL.
	URL string

	opts Options
	srv  *httptest.Server

	mu         sync.Mutex
	cond       *sync.Cond
	users      map[string]*User // by username
	bySID      map[string]*User
	creating   map[string]bool
	requests   []Request
	tokens     []MintedToken
	seq        int
	throttle   int
	retryAfter string
	failStatus int
	badCreds   bool
	hideInst   bool
	userLimit  int
}

// New starts a server on 127.0.0.1 and closes it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:     opts,
		users:    map[string]*User{},
		bySID:    map[string]*User{},
		creating: map[string]bool{},
	}
	s.cond = sync.NewCond(&s.mu)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("flextest: listen on 127.0.0.1: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Throttle makes the next n requests answer 429 (Twilio 20429), with a
// Retry-After header when retryAfter is not empty.
func (s *Server) Throttle(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryAfter = n, retryAfter
}

// FailWith makes every request answer status (e.g. 500, Twilio 20500)
// until FailWith(0).
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus = status
}

// RejectCredentials makes every request answer 401 (Twilio 20003), as
// for a deleted API key.
func (s *Server) RejectCredentials(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badCreds = on
}

// HideInstance makes InstanceSID unknown too (404, Twilio 20404). Other
// instance SIDs are always unknown.
func (s *Server) HideInstance(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hideInst = on
}

// SetUserLimit refuses to create a user when n active users exist (0: no
// limit). Updates of existing users still work.
func (s *Server) SetUserLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLimit = n
}

// SetDeactivated marks a user deprovisioned (as the Deprovision endpoint
// would). It reports whether the user exists.
func (s *Server) SetDeactivated(username string, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if ok {
		u.Deactivated = on
	}
	return ok
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsTo returns the recorded requests with method whose path ends
// with suffix (e.g. "/Users/Provision", "/Tokens").
func (s *Server) RequestsTo(method, suffix string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// Users returns copies of the stored users, by username.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, copyUser(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

// User returns a copy of the user named username.
func (s *Server) User(username string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return User{}, false
	}
	return copyUser(u), true
}

// Tokens returns the minted tokens, oldest first.
func (s *Server) Tokens() []MintedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens)
}

func copyUser(u *User) User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Worker = slices.Clone(u.Worker)
	return c
}

// serve records the request, applies the fault switches in the order a
// real front end would (overload, then auth, then routing), and routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"), Authorization: r.Header.Get("Authorization"),
		Body: body,
	}
	rec.BasicUser, rec.BasicPassword, rec.BasicOK = r.BasicAuth()
	// Record before answering, and the status as it is written, so that a
	// test that reads Requests right after the client returns sees both.
	s.mu.Lock()
	idx := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, onStatus: func(code int) {
		s.mu.Lock()
		s.requests[idx].Status = code
		s.mu.Unlock()
	}}

	s.mu.Lock()
	failStatus, badCreds, hide := s.failStatus, s.badCreds, s.hideInst
	throttled, retryAfter := false, ""
	if failStatus == 0 && s.throttle > 0 {
		s.throttle--
		throttled, retryAfter = true, s.retryAfter
	}
	s.mu.Unlock()

	switch {
	case failStatus != 0:
		writeError(sw, failStatus, 20000+failStatus, http.StatusText(failStatus))
		return
	case throttled:
		if retryAfter != "" {
			sw.Header().Set("Retry-After", retryAfter)
		}
		writeError(sw, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	case badCreds || !rec.BasicOK || rec.BasicUser != APIKeySID || rec.BasicPassword != APISecret:
		sw.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(sw, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}

	// /v4/Instances/{GO}/Users[/Provision | /{FU} | /{FU}/Tokens]
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 4 || parts[0] != "v4" || parts[1] != "Instances" || parts[3] != "Users" ||
		parts[2] != InstanceSID || hide {
		notFound(sw, r.URL.Path)
		return
	}
	rest := parts[4:]
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		s.list(sw, r)
	case len(rest) == 1 && rest[0] == "Provision" && r.Method == http.MethodPost:
		s.provision(sw, rec)
	case len(rest) == 1 && rest[0] != "Provision" && r.Method == http.MethodGet:
		s.fetch(sw, rest[0])
	case len(rest) == 2 && rest[1] == "Tokens" && r.Method == http.MethodPost:
		s.mint(sw, rec, rest[0])
	case len(rest) <= 2:
		writeError(sw, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	default:
		notFound(sw, r.URL.Path)
	}
}
