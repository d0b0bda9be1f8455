package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Status is the verdict of one finding.
type Status string

// Statuses. Only StatusFail makes `samlflex doctor` exit 1.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	// StatusSkip: the check did not run (a flag it needs was not given,
	// or a check it depends on failed). Seen says why.
	StatusSkip Status = "skip"
)

// Finding is one result: what was checked, what was seen, what was
// expected and, unless it is ok, what to do about it.
type Finding struct {
	Check    string `json:"check"`
	Status   Status `json:"status"`
	Seen     string `json:"seen"`
	Expected string `json:"expected,omitempty"`
	Fix      string `json:"fix,omitempty"`
}

// Report is a whole run.
type Report struct {
	BaseURL    string    `json:"base_url"`
	AccountSID string    `json:"account_sid,omitempty"`
	Stack      string    `json:"stack,omitempty"`
	CheckedAt  time.Time `json:"checked_at"`
	Findings   []Finding `json:"findings"`
}

// Failed reports whether any finding failed.
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Status == StatusFail {
			return true
		}
	}
	return false
}

// Count returns the number of findings with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, f := range r.Findings {
		if f.Status == s {
			n++
		}
	}
	return n
}

// Find returns the first finding of check, for tests and scripts.
func (r *Report) Find(check string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check {
			return f, true
		}
	}
	return Finding{}, false
}

// Thresholds. They are not options: an admin who wants another margin can
// read the days in Seen.
const (
	// certWarn: a certificate (TLS or SP) that expires sooner gets a
	// warning. 30 days is the margin the IdP-certificate scan uses too.
	certWarn = 30 * 24 * time.Hour
	// skewWarn and skewFail bound the server's clock against ours. The
	// server checks NotBefore/NotOnOrAfter of every assertion against its
	// clock with the account's skew allowance (default 3 minutes, see
	// samlflex.Account.ClockSkew): past that, every login fails with
	// assertion_expired or assertion_not_yet_valid.
	skewWarn = 30 * time.Second
	skewFail = 3 * time.Minute
	// maxBody caps what doctor reads of any answer.
	maxBody = 1 << 20
	// requestTimeout bounds each request.
	requestTimeout = 15 * time.Second
)

// Config configures Run.
type Config struct {
	// BaseURL is the public base URL, as given to the stack or to serve.
	BaseURL string
	// AccountSID enables the metadata and login checks (they are per
	// account). Empty: those are skipped.
	AccountSID string
	// IdPSSOURL, when set, is the IdP SSO URL the login link must redirect
	// to (the account's idp_sso_url). Empty: any https URL is accepted and
	// reported.
	IdPSSOURL string
	// Transport makes the HTTP requests (nil: a clone of
	// http.DefaultTransport). Tests and the emulator harness set it to
	// trust a test CA or to dial 127.0.0.1. Redirects are never followed.
	Transport http.RoundTripper
	// Secrets and KeysSecretID enable the rotation check (nil: skipped).
	Secrets      SecretsAPI
	KeysSecretID string
	// Stack names the CloudFormation stack (with Stacks): its status is
	// checked, its outputs BaseUrl and KeysSecretArn stand in for
	// BaseURL and KeysSecretID when those are empty, and the alarm topic
	// it created is checked with Topics.
	Stack  string
	Stacks StacksAPI
	// AlarmTopicARN names the alarm topic when the stack did not create
	// it (alarmTopicArn). Topics nil: the topic is not checked.
	AlarmTopicARN string
	Topics        TopicsAPI
	Now           func() time.Time
	Logger        *slog.Logger
}

// doctor carries one run.
type doctor struct {
	cfg    Config
	base   *url.URL
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	urls   samlflex.URLs // zero without AccountSID
	rep    *Report
}

// ErrUsage wraps configuration errors (the CLI's exit 2).
var ErrUsage = errors.New("doctor: usage")

// Run runs every check and returns the report. Its error is only for a
// configuration that cannot be checked (wrapped ErrUsage); what is wrong
// with the deployment is in the findings.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	// The stack comes first: its outputs may supply the base URL.
	var stackFindings []Finding
	topic := cfg.AlarmTopicARN
	if cfg.Stack != "" && cfg.Stacks != nil {
		pre := &doctor{cfg: cfg, log: cfg.Logger, rep: &Report{}}
		if pre.log == nil {
			pre.log = slog.New(slog.DiscardHandler)
		}
		if t := pre.checkStack(ctx); topic == "" {
			topic = t
		}
		cfg, stackFindings = pre.cfg, pre.rep.Findings
	}
	if cfg.BaseURL == "" && len(stackFindings) > 0 {
		// The stack could not say where the deployment is: report that
		// rather than a usage error.
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		rep := &Report{Stack: cfg.Stack, CheckedAt: now().UTC(), Findings: stackFindings}
		f := Finding{Check: "base_url", Status: StatusSkip, Seen: "no base URL: nothing else was checked (see the stack finding)"}
		if !rep.Failed() {
			// A stack that is fine but has no BaseUrl output is not
			// samlflex's, or a very old one: that must not pass.
			f = Finding{Check: "base_url", Status: StatusFail, Seen: "the stack has no output " + outputBaseURL,
				Expected: "the output " + outputBaseURL + " of samlflex's stack", Fix: "check --stack, or give --base-url"}
		}
		rep.Findings = append(rep.Findings, f)
		return rep, nil
	}
	d, err := newDoctor(cfg)
	if err != nil {
		return nil, err
	}
	d.rep.Stack = cfg.Stack
	d.rep.Findings = append(d.rep.Findings, stackFindings...)
	// Order matters only for dependencies: the health answer carries the
	// TLS state and the Date header; metadata keys feed the JWKS check;
	// the login cookie names the current kid.
	health := d.checkTransport(ctx)
	if health == nil {
		// Every other HTTP check would fail the same way: one finding
		// says it better than five.
		for _, c := range []string{"clock.http_date", "metadata", "login", "jwks"} {
			d.skip(c, "not checked: the server did not answer (see healthz)")
		}
	} else {
		d.checkClockHTTP(health)
		md := d.checkMetadata(ctx)
		login := d.checkLogin(ctx, md)
		d.checkJWKS(ctx, md, login)
	}
	d.checkRotation(ctx)
	d.checkAlarmTopic(ctx, topic)
	return d.rep, nil
}

// newDoctor validates cfg and prepares a run.
func newDoctor(cfg Config) (*doctor, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	d := &doctor{cfg: cfg, base: base, now: cfg.Now, log: cfg.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if cfg.AccountSID != "" {
		if d.urls, err = samlflex.URLsFor(base.String(), cfg.AccountSID); err != nil {
			return nil, fmt.Errorf("%w: --account-sid %q must be AC followed by 32 hex digits", ErrUsage, cfg.AccountSID)
		}
	}
	if cfg.IdPSSOURL != "" {
		if u, err := url.Parse(cfg.IdPSSOURL); err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: --idp-sso-url %q is not an absolute URL", ErrUsage, cfg.IdPSSOURL)
		}
	}
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	// Redirects are what the login check inspects; following them would
	// send doctor to the IdP.
	d.client = &http.Client{Transport: tr, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	d.rep = &Report{BaseURL: base.String(), AccountSID: cfg.AccountSID, CheckedAt: d.now().UTC()}
	return d, nil
}

func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: --base-url is required (or --stack, whose output BaseUrl it reads)", ErrUsage)
	}
	b, err := samlflex.ParseBaseURL(s)
	if err != nil {
		return nil, fmt.Errorf("%w: --base-url %q must be an absolute http(s) URL without query, like https://sso.example.com", ErrUsage, s)
	}
	return url.Parse(b.String())
}

func (d *doctor) add(f Finding) {
	d.log.Debug("finding", "check", f.Check, "status", string(f.Status), "seen", f.Seen)
	d.rep.Findings = append(d.rep.Findings, f)
}

func (d *doctor) skip(check, why string) {
	d.add(Finding{Check: check, Status: StatusSkip, Seen: why})
}

// answer is a fetched response with its body read, and the local clock
// around the request (for the skew checks).
type answer struct {
	resp          *http.Response
	body          []byte
	sent, arrived time.Time
}

// get fetches u without following redirects and reads at most maxBody.
func (d *doctor) get(ctx context.Context, u string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "samlflex-doctor")
	sent := d.now()
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", u, err)
	}
	return &answer{resp: resp, body: body, sent: sent, arrived: d.now()}, nil
}

// path joins the base URL (with its path prefix, if any) and p.
func (d *doctor) path(p string) string {
	return d.base.String() + p
}

// isLoopbackHost reports whether host (without port) names this computer.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// snippet is a short, printable excerpt of a body for Seen.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// days formats a duration in whole days for messages.
func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d day", n)
	}
	return fmt.Sprintf("%d days", n)
}

// relative says "in N days" or "N days ago".
func relative(d time.Duration) string {
	if d < 0 {
		return days(-d) + " ago"
	}
	return "in " + days(d)
}

// expiry says "N days left" or "expired N days ago".
func expiry(d time.Duration) string {
	if d <= 0 {
		return "expired " + days(-d) + " ago"
	}
	return days(d) + " left"
}
