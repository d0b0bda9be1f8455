package flex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// budget is the time one public call may spend, on the injected clock.
// Provision passes one budget through all its steps.
type budget struct{ deadline time.Time }

func (c *Client) newBudget() budget { return budget{deadline: c.now().Add(c.maxElapsed)} }

// remaining is the time left before the earlier of the budget's deadline
// and ctx's deadline. ctx deadlines are wall-clock by nature, so they are
// measured with time.Until, not with the injected clock.
func (c *Client) remaining(ctx context.Context, b budget) time.Duration {
	left := b.deadline.Sub(c.now())
	if d, ok := ctx.Deadline(); ok {
		if w := time.Until(d); w < left {
			left = w
		}
	}
	return left
}

// request is one logical API call.
type request struct {
	op     string // for logs and error details: "provision_user", ...
	method string
	path   string // without query; SIDs in it are validated
	query  url.Values
	body   any // JSON-encoded when non-nil
	// retrySafe allows retrying after a 5xx or a transport error, where
	// Twilio may have processed the request. 429 is always retried: Twilio
	// documents that a 429 request was never processed.
	retrySafe bool
	// header holds extra request headers (the Flex Instances API's
	// I-Twilio-Auth-Account).
	header http.Header
	// retryConflict also retries 409 Conflict:
	// only for the idempotent Provision, whose conflict means another login
	// is creating the same user right now (see doc.go).
	retryConflict bool
	// redact are values this request carries (username, email, name) that
	// Twilio may echo in an error message; they are blanked out of it, so
	// that error details can be logged (STYLE: no raw identities in logs).
	redact []string
}

// outcome is what one attempt produced.
type outcome struct {
	status     int
	body       []byte
	err        error // transport error, scrubbed of the URL
	retryAfter time.Duration
}

// do runs req with retries and decodes a 2xx answer into out. Errors are
// *samlflex.Error; a Twilio answer is reachable with errors.As(*APIError).
func (c *Client) do(ctx context.Context, creds Creds, b budget, req request, out any) (int, error) {
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return 0, samlflex.Errorf(samlflex.CodeInternal, "flex %s: encode request: %v", req.op, err)
		}
	}
	target := *c.base
	target.Path += req.path
	target.RawQuery = req.query.Encode()
	started := c.now()
	var last error
	for attempt := 1; ; attempt++ {
		left := c.remaining(ctx, b)
		if err := ctx.Err(); err != nil || left < c.timeout {
			// Never start an attempt that could still be running at the
			// deadline: the caller needs that time to answer the browser.
			return 0, c.giveUp(ctx, req, attempt-1, started, left, last, err)
		}
		o := c.attempt(ctx, creds, req.method, target.String(), req.header, payload)
		if o.err == nil && o.status >= 200 && o.status < 300 {
			if out != nil {
				if err := json.Unmarshal(o.body, out); err != nil {
					return o.status, samlflex.Errorf(samlflex.CodeFlexUnavailable,
						"flex %s: HTTP %d with a body that is not the documented JSON: %v", req.op, o.status, err)
				}
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "flex request done", slog.String("op", req.op),
				slog.Int("status", o.status), slog.Int("attempts", attempt),
				slog.Duration("elapsed", c.now().Sub(started)))
			return o.status, nil
		}

		var failure *samlflex.Error
		retry := false
		attrs := []slog.Attr{slog.String("op", req.op), slog.Int("attempt", attempt)}
		switch {
		case o.err != nil:
			failure = samlflex.Errorf(samlflex.CodeFlexUnavailable, "flex %s: %w", req.op, o.err)
			retry = req.retrySafe && ctx.Err() == nil
			attrs = append(attrs, slog.String("err", o.err.Error()))
		case o.status >= 300 && o.status < 400:
			// Redirects are refused so the Authorization header stays here.
			failure = samlflex.Errorf(samlflex.CodeFlexUnavailable,
				"flex %s: unexpected redirect (HTTP %d); check the Flex API base URL", req.op, o.status)
		default:
			apiErr := parseAPIError(o.status, o.body)
			apiErr.Message = redactValues(apiErr.Message, req.redact)
			v := classify(apiErr)
			failure = apiFailure(req.op, apiErr, v)
			retry = v.retry == retryAlways || (v.retry == retryIfSafe && req.retrySafe) ||
				(v.retry == retryConflict && req.retryConflict)
			attrs = append(attrs, slog.Int("status", o.status), slog.Int("twilio_code", apiErr.Code))
		}
		if !retry {
			return o.status, failure
		}
		last = failure.Err // the detail; giveUp wraps it in its own *samlflex.Error

		wait := c.backoff(attempt)
		if o.retryAfter > 0 {
			wait = max(wait, min(o.retryAfter, c.maxRetryAfter))
		}
		if left := c.remaining(ctx, b); left-wait < c.timeout {
			// The next attempt would not fit after the wait: stop now
			// rather than sleep into the deadline.
			return o.status, c.giveUp(ctx, req, attempt, started, left, last, nil)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "flex request failed, retrying",
			append(attrs, slog.Duration("wait", wait))...)
		if err := c.sleep(ctx, wait); err != nil {
			return o.status, c.giveUp(ctx, req, attempt, started, c.remaining(ctx, b), last, err)
		}
	}
}

// giveUp builds the CodeFlexUnavailable error of an exhausted call.
func (c *Client) giveUp(ctx context.Context, req request, attempts int, started time.Time,
	left time.Duration, last, ctxErr error) error {
	elapsed := c.now().Sub(started)
	c.log.LogAttrs(ctx, slog.LevelWarn, "flex request gave up", slog.String("op", req.op),
		slog.Int("attempts", attempts), slog.Duration("elapsed", elapsed), slog.Duration("left", left))
	reason := fmt.Sprintf("%v left, an attempt needs %v", left.Round(time.Millisecond), c.timeout)
	if ctxErr != nil {
		reason = ctxErr.Error()
	}
	if last == nil {
		return samlflex.Errorf(samlflex.CodeFlexUnavailable,
			"flex %s: no attempt started (%s)", req.op, reason)
	}
	return samlflex.Errorf(samlflex.CodeFlexUnavailable,
		"flex %s: gave up after %d attempts in %v (%s); last: %w", req.op, attempts,
		elapsed.Round(time.Millisecond), reason, last)
}

// attempt sends one request, bounded by c.timeout, and reads the answer.
func (c *Client) attempt(ctx context.Context, creds Creds, method, target string, header http.Header, payload []byte) outcome {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(actx, method, target, body)
	if err != nil {
		return outcome{err: scrub(err)}
	}
	for k, vs := range header {
		hr.Header[k] = vs
	}
	hr.SetBasicAuth(creds.Username, creds.Secret)
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", "samlflex")
	if payload != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return outcome{err: scrub(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return outcome{err: scrub(fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err))}
	}
	return outcome{
		status:     resp.StatusCode,
		body:       data,
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
}

// scrub drops the URL that *url.Error repeats: its query holds the
// username, which must not reach the logs unhashed.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%s: timed out: %w", ue.Op, ue.Err)
		}
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// backoff is "full jitter": uniform in [0, min(max, base*2^(attempt-1))),
// which spreads retries of many concurrent logins best.
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := float64(c.backoffBase) * math.Pow(2, float64(attempt-1))
	if ceiling > float64(c.backoffMax) || math.IsInf(ceiling, 0) {
		ceiling = float64(c.backoffMax)
	}
	r := c.rand()
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(r * ceiling)
}

// parseRetryAfter reads RFC 9110 Retry-After: delay-seconds or an
// HTTP-date. Anything else, or a time in the past, is 0 (no hint).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redactValues replaces every non-empty value in msg with "[redacted]".
func redactValues(msg string, values []string) string {
	for _, v := range values {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, "[redacted]")
		}
	}
	return msg
}
