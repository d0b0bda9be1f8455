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

// Client calls the Flex Users and Flex User Token APIs. It is safe for
// concurrent use and holds no credentials: they are passed per call,
// because each samlflex account has its own API key.
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

// Creds are one account's Twilio API key. String, GoString and LogValue
// leave the secret out, so a Creds that slips into a log line or an error
// stays harmless.
type Creds struct {
	APIKeySID string
	APISecret string
}

// String implements fmt.Stringer without the secret.
func (c Creds) String() string {
	return "flex.Creds{APIKeySID: " + c.APIKeySID + ", APISecret: [redacted]}"
}

// GoString implements fmt.GoStringer without the secret.
func (c Creds) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the secret.
func (c Creds) LogValue() slog.Value {
	return slog.GroupValue(slog.String("api_key_sid", c.APIKeySID))
}

// checkCall validates what every call puts into the URL or the auth header,
// before any I/O. The instance SID is interpolated into the path, so its
// shape is enforced here rather than escaped.
func checkCall(op string, creds Creds, instanceSID string) error {
	if creds.APIKeySID == "" || creds.APISecret == "" || strings.Contains(creds.APIKeySID, ":") {
		return samlflex.Errorf(samlflex.CodeFlexCredentialsInvalid,
			"flex %s: API key SID and secret must both be set (and the SID has no colon)", op)
	}
	if !instanceSIDPattern.MatchString(instanceSID) {
		return samlflex.Errorf(samlflex.CodeFlexInstanceNotFound,
			"flex %s: instance SID %q is not GO followed by 32 hex digits", op, instanceSID)
	}
	return nil
}
