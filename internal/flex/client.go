package flex

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// DefaultBaseURL is Twilio's production Flex API host. Request paths carry
// the API version themselves (/v4/...).
const DefaultBaseURL = "https://flex-api.twilio.com"

// Defaults of Options. MaxElapsed stays well under a 10-15 s Lambda timeout
// so that the error page can still be rendered when Twilio is down.
const (
	DefaultTimeout       = 3 * time.Second
	DefaultMaxElapsed    = 8 * time.Second
	DefaultBackoffBase   = 200 * time.Millisecond
	DefaultBackoffMax    = 2 * time.Second
	DefaultMaxRetryAfter = 2 * time.Second
)

// maxResponseBytes caps what we read of any answer; Flex answers are a few
// KiB, and an unbounded read would let a broken proxy eat the Lambda's
// memory.
const maxResponseBytes = 1 << 20

var (
	instanceSIDPattern = regexp.MustCompile(`^GO[0-9a-fA-F]{32}$`)
	flexUserSIDPattern = regexp.MustCompile(`^FU[0-9a-fA-F]{32}$`)
)

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	// BaseURL is the Flex API root without version, e.g. a test server.
	// It must be https, or http on a loopback address (tests only): the
	// API secret travels in every request's Authorization header.
	BaseURL string
	// HTTPClient sends the requests. Its CheckRedirect is replaced by one
	// that refuses redirects when nil, so the credentials never follow a
	// redirect. Default: a client on http.DefaultTransport.
	HTTPClient *http.Client
	// Timeout bounds one attempt (connect, send, read the answer).
	Timeout time.Duration
	// MaxElapsed is the budget of one call (all attempts and waits);
	// Provision shares one budget across its steps. ctx's deadline, when
	// earlier, wins.
	MaxElapsed time.Duration
	// BackoffBase and BackoffMax shape the exponential backoff: the n-th
	// wait is uniform in [0, min(BackoffMax, BackoffBase*2^(n-1))).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter caps a Retry-After header, so that one answer cannot
	// make a login wait for minutes.
	MaxRetryAfter time.Duration
	// Now is the clock of the retry budget and of token expiry fallbacks.
	Now func() time.Time
	// Sleep waits d or until ctx is done. Tests inject one that advances a
	// fake clock. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for jitter. It must be safe for
	// concurrent use. Default: math/rand/v2's Float64.
	Rand func() float64
	// Logger receives retry and failure records. It never receives the API
	// secret, tokens or raw identities. Default: discard.
	Logger *slog.Logger
}

// Client calls the Flex Users, Flex User Token and Flex Instances APIs. It
// is safe for concurrent use and holds no credentials: they are passed per
// call, because each samlflex account has its own.
type Client struct {
	base          *url.URL
	hc            *http.Client
	timeout       time.Duration
	maxElapsed    time.Duration
	backoffBase   time.Duration
	backoffMax    time.Duration
	maxRetryAfter time.Duration
	now           func() time.Time
	sleep         func(context.Context, time.Duration) error
	rand          func() float64
	log           *slog.Logger
}

// New checks opts and builds a Client. Errors are *samlflex.Error with
// CodeInvalidConfig.
func New(opts Options) (*Client, error) {
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:          base,
		timeout:       orDefault(opts.Timeout, DefaultTimeout),
		maxElapsed:    orDefault(opts.MaxElapsed, DefaultMaxElapsed),
		backoffBase:   orDefault(opts.BackoffBase, DefaultBackoffBase),
		backoffMax:    orDefault(opts.BackoffMax, DefaultBackoffMax),
		maxRetryAfter: orDefault(opts.MaxRetryAfter, DefaultMaxRetryAfter),
		now:           opts.Now,
		sleep:         opts.Sleep,
		rand:          opts.Rand,
		log:           opts.Logger,
	}
	for name, d := range map[string]time.Duration{
		"Timeout": opts.Timeout, "MaxElapsed": opts.MaxElapsed, "BackoffBase": opts.BackoffBase,
		"BackoffMax": opts.BackoffMax, "MaxRetryAfter": opts.MaxRetryAfter,
	} {
		if d < 0 {
			return nil, samlflex.Errorf(samlflex.CodeInvalidConfig, "flex: %s must not be negative, got %v", name, d)
		}
	}
	if c.maxElapsed < c.timeout {
		// No attempt would ever fit into the budget.
		return nil, samlflex.Errorf(samlflex.CodeInvalidConfig,
			"flex: MaxElapsed (%v) must be at least Timeout (%v)", c.maxElapsed, c.timeout)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepTimer
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	hc := http.Client{}
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	c.hc = &hc
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, samlflex.Errorf(samlflex.CodeInvalidConfig, "flex: BaseURL does not parse: %v", err)
	}
	switch {
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, samlflex.Errorf(samlflex.CodeInvalidConfig,
			"flex: BaseURL must be scheme://host[/path] without user, query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, samlflex.Errorf(samlflex.CodeInvalidConfig,
			"flex: BaseURL must use https (http only on a loopback address), got scheme %q", u.Scheme)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CredKind names which Twilio credential a Creds holds.
type CredKind string

// The two credentials Twilio accepts in HTTP Basic auth for the Flex APIs.
// The v4 Users and Token pages show the Account SID and Auth Token; Twilio's
// general guidance ("Twilio API requests", and the "Create a Flex instance
// programmatically" page) recommends an API key. Both are supported; docs/flex.md
// says why the API key is preferred.
const (
	CredAPIKey    CredKind = "api_key"    // SK… + API key secret
	CredAuthToken CredKind = "auth_token" // AC… (the Account SID) + Auth Token
)

var (
	apiKeySIDPattern  = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
)

// Creds are one account's Twilio credentials. String, GoString and
// LogValue leave the secret out, so a Creds that slips into a log line or an
// error stays harmless.
type Creds struct {
	// Username is the basic-auth user: an API key SID (SK…), or the Account
	// SID (AC…) when Secret is the account's Auth Token.
	Username string
	// Secret is the API key secret or the Auth Token.
	Secret string
	// AccountSID is the Twilio account the Flex instance belongs to. It is
	// sent as the I-Twilio-Auth-Account header that the Flex Instances API
	// names; with the Auth Token it may be left empty (it is the Username).
	AccountSID string
}

// Kind reports which credential c holds, from the shape of Username.
func (c Creds) Kind() CredKind {
	if strings.HasPrefix(c.Username, "AC") {
		return CredAuthToken
	}
	return CredAPIKey
}

// account is the Account SID for the I-Twilio-Auth-Account header.
func (c Creds) account() string {
	if c.AccountSID == "" && c.Kind() == CredAuthToken {
		return c.Username
	}
	return c.AccountSID
}

// String implements fmt.Stringer without the secret.
func (c Creds) String() string {
	return "flex.Creds{Username: " + c.Username + ", Kind: " + string(c.Kind()) +
		", AccountSID: " + c.AccountSID + ", Secret: [redacted]}"
}

// GoString implements fmt.GoStringer without the secret.
func (c Creds) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret.
func (c Creds) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("kind", string(c.Kind())))
}

// checkCreds validates the credentials before any I/O: a malformed
// username would only earn a 401 from Twilio, and a colon would split the
// basic-auth pair in the wrong place.
func checkCreds(op string, creds Creds) error {
	switch {
	case creds.Secret == "":
		return samlflex.Errorf(samlflex.CodeFlexCredentialsInvalid,
			"flex %s: no secret (API key secret or Auth Token) is set", op)
	case !apiKeySIDPattern.MatchString(creds.Username) && !accountSIDPattern.MatchString(creds.Username):
		return samlflex.Errorf(samlflex.CodeFlexCredentialsInvalid,
			"flex %s: the username must be an API key SID (SK + 32 hex digits) or, with the Auth Token, the Account SID (AC + 32 hex digits)", op)
	case creds.Kind() == CredAuthToken && creds.AccountSID != "" && creds.AccountSID != creds.Username:
		return samlflex.Errorf(samlflex.CodeFlexCredentialsInvalid,
			"flex %s: an Auth Token belongs to its own account: the username %s must be the account %s", op, creds.Username, creds.AccountSID)
	case creds.AccountSID != "" && !accountSIDPattern.MatchString(creds.AccountSID):
		return samlflex.Errorf(samlflex.CodeFlexCredentialsInvalid,
			"flex %s: the Account SID must be AC followed by 32 hex digits", op)
	}
	return nil
}

// checkCall validates what every call puts into the URL or the auth header,
// before any I/O. The instance SID is interpolated into the path, so its
// shape is enforced here rather than escaped.
func checkCall(op string, creds Creds, instanceSID string) error {
	if err := checkCreds(op, creds); err != nil {
		return err
	}
	if !instanceSIDPattern.MatchString(instanceSID) {
		return samlflex.Errorf(samlflex.CodeFlexInstanceNotFound,
			"flex %s: instance SID %q is not GO followed by 32 hex digits", op, instanceSID)
	}
	return nil
}

// checkUserCall is checkCall for a call whose path also names the Flex
// user flexUserSID, interpolated like the instance SID.
func checkUserCall(op string, creds Creds, instanceSID, flexUserSID string) error {
	if err := checkCall(op, creds, instanceSID); err != nil {
		return err
	}
	if !flexUserSIDPattern.MatchString(flexUserSID) {
		return samlflex.Errorf(samlflex.CodeFlexRejected,
			"flex %s: Flex user SID %q is not FU followed by 32 hex digits", op, flexUserSID)
	}
	return nil
}
