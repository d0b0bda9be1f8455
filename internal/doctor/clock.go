package doctor

import (
	"fmt"
	"net/http"
	"time"
)

// skew estimates how far a server timestamp is from the local clock, given
// when the request left and its answer arrived (locally) and the stamp's
// resolution (an HTTP Date is truncated to the second). Any value the
// server could have had inside the request's round trip counts as no skew,
// so that a slow network never reads as a bad clock; past that, the
// smallest possible offset is returned (positive: the server is ahead).
func skew(server, sent, arrived time.Time, resolution time.Duration) time.Duration {
	switch {
	case server.Add(resolution).Before(sent):
		return server.Add(resolution).Sub(sent)
	case server.After(arrived):
		return server.Sub(arrived)
	default:
		return 0
	}
}

// skewFinding grades a skew: the server checks every assertion's
// NotBefore and NotOnOrAfter against its own clock, with the account's
// allowance (3 minutes by default).
func skewFinding(check, source string, s time.Duration) Finding {
	f := Finding{Check: check, Expected: fmt.Sprintf("within %s of this computer's clock (fail past %s)", skewWarn, skewFail)}
	abs, dir := s, "ahead of"
	if s < 0 {
		abs, dir = -s, "behind"
	}
	if abs == 0 {
		f.Status, f.Seen = StatusOK, source+" agrees with this computer's clock"
		return f
	}
	f.Seen = fmt.Sprintf("%s is %s %s this computer's clock", source, abs.Round(time.Second), dir)
	const why = "SAML assertions are valid for minutes, checked against the server's clock with the account's clock-skew allowance " +
		"(default 3 minutes): past it, logins fail with assertion_expired or assertion_not_yet_valid. "
	switch {
	case abs > skewFail:
		f.Status = StatusFail
		f.Fix = why + "Sync the clock that is off (NTP on the server running serve; check this computer's clock too: Lambda and API Gateway clocks are synced by AWS)"
	case abs > skewWarn:
		f.Status = StatusWarn
		f.Fix = why + "Sync the clock that is off (NTP) before the drift grows"
	default:
		f.Status = StatusOK
	}
	return f
}

// checkClockHTTP compares the HTTP Date header of the health answer. In
// Lambda that header comes from API Gateway, not from the function: the
// SAML clock check below (the AuthnRequest's IssueInstant) is the
// function's own.
func (d *doctor) checkClockHTTP(a *answer) {
	const check = "clock.http_date"
	h := a.resp.Header.Get("Date")
	if h == "" {
		d.skip(check, "the answer has no Date header")
		return
	}
	t, err := http.ParseTime(h)
	if err != nil {
		d.add(Finding{Check: check, Status: StatusWarn, Seen: fmt.Sprintf("Date header %q does not parse", h),
			Expected: "an HTTP date (RFC 9110)", Fix: "check what sits between doctor and samlflex (a proxy rewriting headers?)"})
		return
	}
	d.add(skewFinding(check, "the server's HTTP Date", skew(t, a.sent, a.arrived, time.Second)))
}
