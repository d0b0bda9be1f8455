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
// APIKeySID:APISecret or AccountSID:AuthToken (both documented: see
// "Twilio API requests") and name InstanceSID.
const (
	AccountSID   = "AC00000000000000000000000000000001"
	InstanceSID  = "GO00000000000000000000000000000001"
	WorkspaceSID = "WS00000000000000000000000000000001"
	TeamSID      = "QO00000000000000000000000000000001"
	APIKeySID    = "SK00000000000000000000000000000001"
	APISecret    = "flextest-api-secret-d41d8cd98f00b204"
	AuthToken    = "flextest-auth-token-0cc175b9c0f1b6a8"
)

// UserLimitCode is the Twilio code SetUserLimit answers with: TaskRouter's
// "Max concurrent Workers exceeded" (active workers). ASSUMED that Provision
// would pass it on; Twilio documents no Flex user-limit error.
const UserLimitCode = 14240

// IsProvisionRole reports the roles the Flex Users API documents for
// Provision (agent, supervisor, admin). ASSUMED: any other role (a Flex
// Insights wfo.* role) is refused with 400; the page does not say.
func IsProvisionRole(r string) bool {
	return r == "agent" || r == "supervisor" || r == "admin"
}

// Options tune the server. The zero value is a plain, fast server.
type Options struct {
	// Now stamps users and token expirations. Default time.Now.
	Now func() time.Time
	// CreateDelay holds every first Provision of a username this long
	// before the user is stored, so concurrent first logins overlap.
	CreateDelay time.Duration
	// ConflictOnRace answers 409 (Twilio 20409) to a Provision whose
	// username another request is creating, instead of waiting for it.
	// ASSUMED: Twilio documents Provision as idempotent, not how it
	// answers two concurrent first provisions.
	ConflictOnRace bool
	// CreateStatus is the status of a Provision that creates the user.
	// Default 201. ASSUMED: the page shows one answer and no status per
	// case; 200 for both is as plausible, and package flex accepts any 2xx.
	CreateStatus int
	// NoWorkerSIDInLookup leaves worker_sid and workspace_sid out of the
	// GET answers. DOCUMENTED possibility: the schema says "String or null".
	NoWorkerSIDInLookup bool
	// NoDeactivatedField leaves deactivated and deactivated_date out of
	// every user answer. DOCUMENTED possibility: the examples show users
	// without them.
	NoDeactivatedField bool
	// UnknownUser404 answers 404 (20404) to a lookup of an unknown
	// username instead of 200 with an empty list. Both are plausible:
	// the page documents the list, not the "none" case.
	UnknownUser404 bool
	// HideDeactivated answers a lookup or fetch of a deactivated user as
	// if it did not exist (empty list, or 404 on fetch). ASSUMED
	// alternative to listing it with "deactivated": true.
	HideDeactivated bool
	// MaxTTL, when > 0, refuses a token ttl above it with 400. ASSUMED:
	// the Token API documents no maximum and no refusal.
	MaxTTL int64
	// InstanceStatus is the status of the Flex instance read (default
	// "ready", the documented working state).
	InstanceStatus string
	// AccountSID is the account the instance belongs to (default the
	// AccountSID constant): the Auth Token username and the
	// I-Twilio-Auth-Account header must name it.
	AccountSID string
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
	failN      int
	failSt     int
	failCode   int
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
	if opts.CreateStatus == 0 {
		opts.CreateStatus = http.StatusCreated
	}
	if opts.AccountSID == "" {
		opts.AccountSID = AccountSID
	}
	if opts.InstanceStatus == "" {
		opts.InstanceStatus = "ready"
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

// locked runs f holding s.mu: the setters below are called by tests while
// handlers read the same fields.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// Throttle makes the next n requests answer 429 (Twilio 20429), with a
// Retry-After header when retryAfter is not empty.
func (s *Server) Throttle(n int, retryAfter string) {
	s.locked(func() { s.throttle, s.retryAfter = n, retryAfter })
}

// FailNext makes the next n requests answer status with Twilio code
// (0: none) in the documented exception body, e.g. 45796 with 409 or 45780
// with 429, to test how each code is handled whatever status carries it.
func (s *Server) FailNext(n, status, code int) {
	s.locked(func() { s.failN, s.failSt, s.failCode = n, status, code })
}

// FailWith makes every request answer status (e.g. 500, Twilio 20500)
// until FailWith(0).
func (s *Server) FailWith(status int) {
	s.locked(func() { s.failStatus = status })
}

// RejectCredentials makes every request answer 401 (Twilio 20003), as
// for a deleted API key.
func (s *Server) RejectCredentials(on bool) {
	s.locked(func() { s.badCreds = on })
}

// HideInstance makes InstanceSID unknown too (404, Twilio 20404). Other
// instance SIDs are always unknown.
func (s *Server) HideInstance(on bool) {
	s.locked(func() { s.hideInst = on })
}

// SetUserLimit refuses to create a user when n active users exist (0: no
// limit). Updates of existing users still work.
func (s *Server) SetUserLimit(n int) {
	s.locked(func() { s.userLimit = n })
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
	nextSt, nextCode := 0, 0
	if failStatus == 0 && !throttled && s.failN > 0 {
		s.failN--
		nextSt, nextCode = s.failSt, s.failCode
	}
	s.mu.Unlock()

	user, pass := rec.BasicUser, rec.BasicPassword
	goodCreds := rec.BasicOK && (user == APIKeySID && pass == APISecret || user == s.opts.AccountSID && pass == AuthToken)
	switch {
	case failStatus != 0:
		writeError(sw, failStatus, 20000+failStatus, http.StatusText(failStatus))
		return
	case nextSt != 0:
		writeError(sw, nextSt, nextCode, "Injected failure")
		return
	case throttled:
		if retryAfter != "" {
			sw.Header().Set("Retry-After", retryAfter)
		}
		writeError(sw, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	case badCreds || !goodCreds:
		sw.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(sw, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}

	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	// /v2/Instances/{GO}: DOCUMENTED ("Create a Flex instance
	// programmatically"), with the I-Twilio-Auth-Account header. ASSUMED:
	// 404 (20404) for an unknown instance, 400 for a missing or wrong
	// header.
	if len(parts) == 3 && parts[0] == "v2" && parts[1] == "Instances" {
		s.instance(sw, r, parts[2], hide)
		return
	}
	// /v4/Instances/{GO}/Users[/Provision | /{FU} | /{FU}/Tokens | /{FU}/Deprovision]
	// ASSUMED: 404 (20404) for an unknown instance, like every Twilio
	// resource; the pages do not say.
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
	case len(rest) == 2 && rest[1] == "Deprovision" && r.Method == http.MethodPost:
		s.deprovision(sw, rest[0])
	case len(rest) <= 2:
		writeError(sw, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	default:
		notFound(sw, r.URL.Path)
	}
}
