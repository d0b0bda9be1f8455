package flex

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestRetryThrottledThenSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		// each wait must be in [minWait, maxWait]
		minWait, maxWait time.Duration
	}{
		{"Retry-After honoured", "1", time.Second, time.Second},
		{"Retry-After capped at MaxRetryAfter", "120", DefaultMaxRetryAfter, DefaultMaxRetryAfter},
		{"no Retry-After: jittered backoff", "", 0, DefaultBackoffBase * 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			e.srv.Throttle(2, tt.retryAfter)
			tok, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour)
			if err != nil {
				t.Fatalf("Provision after 429s: %v", err)
			}
			if tok.AccessToken == "" {
				t.Fatal("no token")
			}
			provs := e.srv.RequestsTo(http.MethodPost, "/Users/Provision")
			if len(provs) != 3 || provs[0].Status != 429 || provs[1].Status != 429 || provs[2].Status != 201 {
				t.Errorf("provision statuses = %v, want 429, 429, 201", statuses(provs))
			}
			slept := e.clock.Slept()
			if len(slept) != 2 {
				t.Fatalf("waits = %v, want 2", slept)
			}
			for _, d := range slept {
				if d < tt.minWait || d > tt.maxWait {
					t.Errorf("wait %v outside [%v, %v]", d, tt.minWait, tt.maxWait)
				}
			}
			if n := len(e.srv.Users()); n != 1 {
				t.Errorf("users = %d, want 1", n)
			}
		})
	}
}

func statuses(rs []flextest.Request) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Status)
	}
	return out
}

// 5xx until the budget runs out: CodeFlexUnavailable, several attempts, and
// never more time than MaxElapsed (on the injected clock) or a fraction of a
// second of real time.
func TestRetryServerErrorUntilBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		timeout time.Duration
		budget  time.Duration
	}{
		{"500 forever, defaults", http.StatusInternalServerError, DefaultTimeout, DefaultMaxElapsed},
		{"503 forever, short budget", http.StatusServiceUnavailable, 500 * time.Millisecond, 2 * time.Second},
		{"502 forever, budget equals timeout", http.StatusBadGateway, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, func(o *Options) {
				o.Timeout, o.MaxElapsed = tt.timeout, tt.budget
				o.BackoffBase, o.BackoffMax = 100*time.Millisecond, 400*time.Millisecond
			})
			e.srv.FailWith(tt.status)
			start, wall := e.clock.Now(), time.Now()
			_, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour)
			wantCode(t, err, samlflex.CodeFlexUnavailable)
			if used := e.clock.Now().Sub(start); used > tt.budget {
				t.Errorf("used %v of fake time, budget %v", used, tt.budget)
			}
			if real := time.Since(wall); real > 2*time.Second {
				t.Errorf("took %v of real time", real)
			}
			n := len(e.srv.Requests())
			if n < 1 {
				t.Fatal("no attempt made")
			}
			if tt.budget >= 2*tt.timeout && n < 2 {
				t.Errorf("attempts = %d, want retries", n)
			}
			if !strings.Contains(err.Error(), "gave up") {
				t.Errorf("error %q does not say it gave up", err)
			}
		})
	}
}

// Real clock, real (millisecond) sleeps: ctx's deadline, not MaxElapsed,
// ends the retries, and no attempt is started that could outlive it.
func TestRetryHonoursContextDeadline(t *testing.T) {
	t.Parallel()
	srv := flextest.New(t, flextest.Options{})
	srv.FailWith(http.StatusInternalServerError)
	c, err := New(Options{
		BaseURL: srv.URL, Timeout: 40 * time.Millisecond, MaxElapsed: time.Minute,
		BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 250*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err = c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
	wantCode(t, err, samlflex.CodeFlexUnavailable)
	// The deadline, not MaxElapsed (a minute), ends the retries: the call
	// returns right after it. A second of slack absorbs scheduling delay
	// on a loaded 2-core machine (it was 150 ms late under a parallel
	// go test ./...).
	if late := time.Since(deadline); late > time.Second {
		t.Errorf("returned %v after ctx's deadline", late)
	}
	if n := len(srv.Requests()); n < 2 {
		t.Errorf("attempts = %d, want several", n)
	}
}

func TestNoAttemptWhenDeadlineTooClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), DefaultTimeout/2)
	defer cancel()
	_, err := e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
	wantCode(t, err, samlflex.CodeFlexUnavailable)
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("requests = %d; an attempt that cannot finish before the deadline must not start", n)
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   samlflex.Code
	}{
		{http.StatusBadRequest, samlflex.CodeFlexRejected},
		{http.StatusUnauthorized, samlflex.CodeFlexCredentialsInvalid},
		{http.StatusForbidden, samlflex.CodeFlexCredentialsInvalid},
		{http.StatusNotFound, samlflex.CodeFlexInstanceNotFound},
		{http.StatusConflict, samlflex.CodeFlexRejected}, // retried only by Provision
		{http.StatusUnprocessableEntity, samlflex.CodeFlexRejected},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			e.srv.FailWith(tt.status)
			_, found, err := e.c.FindUser(t.Context(), goodCreds, flextest.InstanceSID, "alice@example.com")
			if tt.status == http.StatusNotFound {
				// The lookup reads 404 as "no such user" (see listByUsername).
				if err != nil || found {
					t.Errorf("FindUser after 404 = %v, %v; want not found, no error", found, err)
				}
			} else {
				wantCode(t, err, tt.want)
			}
			calls := 1
			if tt.status != http.StatusConflict {
				_, err = e.c.ProvisionUser(t.Context(), goodCreds, flextest.InstanceSID, alice())
				wantCode(t, err, tt.want)
				calls++
			}
			if n := len(e.srv.Requests()); n != calls {
				t.Errorf("requests = %d for %d calls; 4xx must not be retried", n, calls)
			}
			if len(e.clock.Slept()) != 0 {
				t.Errorf("waited %v", e.clock.Slept())
			}
		})
	}
}

// A conflict that does not go away ends as unavailability within the budget.
func TestProvisionPersistentConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	e.srv.FailWith(http.StatusConflict)
	start := e.clock.Now()
	_, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour)
	wantCode(t, err, samlflex.CodeFlexUnavailable)
	if n := len(e.srv.RequestsTo(http.MethodPost, "/Users/Provision")); n < 2 {
		t.Errorf("provision requests = %d, want the conflict re-sent", n)
	}
	if used := e.clock.Now().Sub(start); used > DefaultMaxElapsed {
		t.Errorf("used %v, budget %v", used, DefaultMaxElapsed)
	}
}

// countingTransport counts round trips, to see retries of requests that
// never reach a server.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestTransportErrorsRetriedAndScrubbed(t *testing.T) {
	t.Parallel()
	// A port on 127.0.0.1 with nothing listening: connection refused.
	addr := samlflextest.FreeAddr(t)

	clock := newFakeClock()
	tr := &countingTransport{next: http.DefaultTransport}
	logs := &samlflextest.LogBuffer{}
	c, err := New(Options{
		BaseURL: "http://" + addr, HTTPClient: &http.Client{Transport: tr},
		Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.99 },
		Logger: newJSONLogger(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.FindUser(t.Context(), goodCreds, flextest.InstanceSID, "alice@example.com")
	wantCode(t, err, samlflex.CodeFlexUnavailable)
	if tr.n.Load() < 2 {
		t.Errorf("attempts = %d, want retries", tr.n.Load())
	}
	// *url.Error repeats the URL, whose query holds the username.
	for _, s := range []string{err.Error(), logs.String()} {
		if strings.Contains(s, "alice") {
			t.Errorf("username leaked: %s", s)
		}
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target := flextest.New(t, flextest.Options{})
	// A server that redirects every request to the stand-in.
	srv := newRedirectServer(t, target.URL)
	c, err := New(Options{BaseURL: srv})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Check(t.Context(), goodCreds, flextest.InstanceSID)
	wantCode(t, err, samlflex.CodeFlexUnavailable)
	if n := len(target.Requests()); n != 0 {
		t.Errorf("redirect was followed with the credentials (%d requests)", n)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0, 0},
		{1, 0.5, 100 * time.Millisecond},
		{2, 0.5, 200 * time.Millisecond},
		{3, 0.5, 400 * time.Millisecond},
		{5, 0.5, 500 * time.Millisecond}, // capped at BackoffMax
		{200, 0.999, 999 * time.Millisecond},
		{1, 7, 0}, // a broken Rand never stretches the wait
	}
	for _, tt := range tests {
		c, err := New(Options{BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second,
			Rand: func() float64 { return tt.r }})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(%d) with r=%v = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 10 ", 10 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"99999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
