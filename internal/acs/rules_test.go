package acs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestHandleRules runs the ACS rules against the use case itself: one row
// per rule, the embedded store (with injected outages) and a fake key
// source. wantMarks is how many one-time writes reached the store: a
// refused response must not burn its assertion ID.
func TestHandleRules(t *testing.T) {
	t.Parallel()
	const (
		solicited   = "response-signed.b64"
		unsolicited = "unsolicited.b64"
	)
	flexConn := &samlflex.FlexConnection{InstanceSID: "GO00000000000000000000000000000001", APIKeySID: "SK00000000000000000000000000000001",
		DeliveryURL: "https://flex-app.example.com/"}
	tests := []struct {
		name      string
		mode      samlflex.IdPInitiatedMode
		account   func(*samlflex.Account)
		config    func(*Config)
		fault     func(*faultStore)
		response  string
		cookie    *session.LoginState // sealed with the fixture's key
		rawCookie string              // sent as is
		sid       string              // default testSID
		relay     string
		replay    bool // post the same input once before
		wantCode  samlflex.Code
		wantMarks int32
		check     func(t *testing.T, f *fixture, res *Result)
	}{
		{name: "sp-initiated ok", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID}, wantMarks: 1,
			check: func(t *testing.T, f *fixture, res *Result) {
				wantToken(t, res, startURL, "samlflex")
				if res.Claims.Audience != testSID || res.Claims.Issuer != testBase {
					t.Errorf("claims %+v", res.Claims)
				}
			}},
		{name: "solicited response without a login cookie", response: solicited, wantCode: samlflex.CodeUnknownRequest},
		{name: "solicited response with a forged cookie", response: solicited, rawCookie: "e30.AAAA", wantCode: samlflex.CodeUnknownRequest,
			check: func(t *testing.T, f *fixture, _ *Result) {
				if !strings.Contains(f.logs.String(), `"msg":"login cookie ignored"`) {
					t.Errorf("log:\n%s", f.logs)
				}
			}},
		{name: "solicited response with an expired cookie", response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Expires: testNow.Unix()}, wantCode: samlflex.CodeUnknownRequest},
		{name: "solicited response with another account's cookie", response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, AccountSID: "AC00000000000000000000000000000001"}, wantCode: samlflex.CodeUnknownRequest},
		{name: "InResponseTo mismatch", response: solicited, cookie: &session.LoginState{RequestID: "_samlflex_other"},
			wantCode: samlflex.CodeInResponseToMismatch},
		{name: "unsolicited, bounce (default)", response: unsolicited,
			check: func(t *testing.T, f *fixture, res *Result) { wantBounce(t, f, res, "") }},
		{name: "unsolicited, bounce keeps an allowlisted RelayState", response: unsolicited, relay: altURL,
			check: func(t *testing.T, f *fixture, res *Result) { wantBounce(t, f, res, altURL) }},
		{name: "unsolicited, bounce drops another RelayState", response: unsolicited, relay: "https://evil.example/",
			check: func(t *testing.T, f *fixture, res *Result) { wantBounce(t, f, res, "") }},
		{name: "unsolicited, bounce after the loop window", response: unsolicited,
			cookie: &session.LoginState{RequestID: "_x", Bounced: testNow.Add(-session.BounceWindow).Unix()},
			check:  func(t *testing.T, f *fixture, res *Result) { wantBounce(t, f, res, "") }},
		{name: "unsolicited, loop guard", response: unsolicited,
			cookie:   &session.LoginState{RequestID: "_x", Bounced: testNow.Add(-5 * time.Second).Unix()},
			wantCode: samlflex.CodeIdPInitiatedLoop},
		{name: "unsolicited, accept", mode: samlflex.IdPInitiatedAccept, response: unsolicited, wantMarks: 1,
			check: func(t *testing.T, f *fixture, res *Result) { wantToken(t, res, startURL, "samlflex") }},
		{name: "unsolicited, refuse", mode: samlflex.IdPInitiatedRefuse, response: unsolicited, wantCode: samlflex.CodeUnsolicitedNotAllowed},
		{name: "replay", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID}, replay: true,
			wantCode: samlflex.CodeAssertionReplayed, wantMarks: 2},
		{name: "RelayState on the allowlist", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID}, relay: altURL, wantMarks: 1,
			check: func(t *testing.T, f *fixture, res *Result) { wantToken(t, res, altURL, "samlflex") }},
		{name: "RelayState off the allowlist is ignored", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			relay: "https://evil.example/", wantMarks: 1,
			check: func(t *testing.T, f *fixture, res *Result) { wantToken(t, res, startURL, "samlflex") }},
		{name: "RelayState kept by a bounce", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID, Relay: altURL}, wantMarks: 1,
			check: func(t *testing.T, f *fixture, res *Result) { wantToken(t, res, altURL, "samlflex") }},
		{name: "start URL without a host", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			account: func(a *samlflex.Account) { a.StartURL = "/agent-desktop" }, wantCode: samlflex.CodeInvalidConfig},
		{name: "Flex connection without a provisioner", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			account: func(a *samlflex.Account) { a.Flex = flexConn }, config: func(c *Config) { c.Provisioner = nil },
			wantCode: samlflex.CodeInvalidConfig},
		{name: "Flex connection with a provisioner", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			account: func(a *samlflex.Account) { a.Flex = flexConn }, wantMarks: 1,
			check: func(t *testing.T, f *fixture, res *Result) {
				wantToken(t, res, "https://flex-app.example.com/", "flex")
				if f.prov.calls.Load() != 1 {
					t.Errorf("provisioned %d times", f.prov.calls.Load())
				}
			}},
		{name: "unknown account", sid: "AC00000000000000000000000000000001", response: solicited, wantCode: samlflex.CodeUnknownAccount},
		{name: "malformed account SID", sid: "../AC", response: solicited, wantCode: samlflex.CodeUnknownAccount},
		{name: "store unavailable reading the account", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			fault: func(s *faultStore) { s.getErr = errOutage }, wantCode: samlflex.CodeStoreUnavailable},
		{name: "store unavailable marking the assertion", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			fault: func(s *faultStore) { s.markErr = errOutage }, wantCode: samlflex.CodeStoreUnavailable, wantMarks: 1},
		{name: "keys unavailable with a cookie", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID},
			config: func(c *Config) { c.Keys = fakeKeys{err: errOutage} }, wantCode: samlflex.CodeKeysUnavailable},
		{name: "keys unavailable for the token", mode: samlflex.IdPInitiatedAccept, response: unsolicited,
			config: func(c *Config) { c.Keys = fakeKeys{err: errOutage} }, wantCode: samlflex.CodeKeysUnavailable},
		{name: "signed by another key", response: "response-signed-other-key.b64", cookie: &session.LoginState{RequestID: goldenReqID},
			wantCode: samlflex.CodeCertificateUntrusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			acct := testAccount(t, tc.mode)
			if tc.account != nil {
				tc.account(&acct)
			}
			cfg := tc.config
			var sealWith *fixture
			f := newFixture(t, acct, func(c *Config) {
				if cfg != nil {
					cfg(c)
				}
			})
			sealWith = f
			in := Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, tc.response)), RelayState: tc.relay, LoginCookie: tc.rawCookie, LogID: "req-1"}
			if tc.sid != "" {
				in.AccountSID = tc.sid
			}
			if tc.cookie != nil {
				in.LoginCookie = sealWith.cookie(t, *tc.cookie)
			}
			if tc.replay {
				if _, err := f.svc.Handle(context.Background(), in); err != nil {
					t.Fatalf("first post: %v", err)
				}
			}
			if tc.fault != nil {
				tc.fault(f.st)
			}
			res, err := f.svc.Handle(context.Background(), in)
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tc.wantCode)
			}
			if got := f.st.marks.Load(); got != tc.wantMarks {
				t.Errorf("%d one-time writes, want %d", got, tc.wantMarks)
			}
			if err != nil && res != nil {
				t.Errorf("a result with an error: %+v", res)
			}
			if tc.check != nil {
				tc.check(t, f, res)
			}
		})
	}
}

// codeOf is samlflex.CodeOf with "" for success (CodeOf(nil) is
// internal).
func codeOf(err error) samlflex.Code {
	if err == nil {
		return ""
	}
	return samlflex.CodeOf(err)
}

// wantToken checks a granted login: the token in the fragment of target.
func wantToken(t *testing.T, res *Result, target, kind string) {
	t.Helper()
	if res == nil || res.Bounce || res.Token == "" || res.TokenKind != kind {
		t.Fatalf("result %+v, want a %s token", res, kind)
	}
	if res.Redirect.Fragment != "token="+res.Token {
		t.Errorf("fragment %q", res.Redirect.Fragment)
	}
	u := *res.Redirect
	u.Fragment = ""
	if u.String() != target {
		t.Errorf("redirect to %s, want %s", u.String(), target)
	}
}

// wantBounce checks a bounce: no token, a fresh login whose cookie opens
// to a bounce marked now that keeps relay.
func wantBounce(t *testing.T, f *fixture, res *Result, relay string) {
	t.Helper()
	if res == nil || !res.Bounce || res.Token != "" || res.Redirect != nil || res.Login == nil || res.BounceRelayState != relay {
		t.Fatalf("result %+v, want a bounce keeping %q", res, relay)
	}
	if !strings.HasPrefix(res.Login.RedirectURL, "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect?") {
		t.Errorf("bounce to %s", res.Login.RedirectURL)
	}
	st, err := new(session.LoginKeys).Open(f.set.ByKid, res.Login.Cookie, testSID, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if st.RequestID == "" || st.Bounced != testNow.Unix() || st.Relay != relay || !st.RecentlyBounced(testNow) {
		t.Errorf("bounce cookie %+v", st)
	}
	if !strings.Contains(f.logs.String(), `"msg":"idp_initiated_bounce"`) {
		t.Errorf("log:\n%s", f.logs)
	}
}

// TestConfigErrorDoesNotBurnAssertion: a response refused for a
// configuration error is accepted once the admin fixes the account. When
// the checks ran after the one-time write, the retry was refused as a
// replay.
func TestConfigErrorDoesNotBurnAssertion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		broken func(*samlflex.Account)
		config func(*Config)
		fixed  func(*samlflex.Account)
	}{
		{name: "Flex connection without a provisioner",
			broken: func(a *samlflex.Account) {
				a.Flex = &samlflex.FlexConnection{InstanceSID: "GO00000000000000000000000000000001", APIKeySID: "SK00000000000000000000000000000001"}
			},
			config: func(c *Config) { c.Provisioner = nil },
			fixed:  func(a *samlflex.Account) { a.Flex = nil }},
		{name: "start URL without a host",
			broken: func(a *samlflex.Account) { a.StartURL = "/agent-desktop" },
			fixed:  func(a *samlflex.Account) { a.StartURL = startURL }},
		{name: "Flex delivery URL that does not parse",
			broken: func(a *samlflex.Account) {
				a.Flex = &samlflex.FlexConnection{InstanceSID: "GO00000000000000000000000000000001", APIKeySID: "SK00000000000000000000000000000001",
					DeliveryURL: "https://flex-app.example.com/%zz"}
			},
			fixed: func(a *samlflex.Account) { a.Flex.DeliveryURL = "https://flex-app.example.com/" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			acct := testAccount(t, samlflex.IdPInitiatedAccept)
			tc.broken(&acct)
			f := newFixture(t, acct, tc.config)
			in := Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, "unsolicited.b64"))}
			if _, err := f.svc.Handle(context.Background(), in); samlflex.CodeOf(err) != samlflex.CodeInvalidConfig {
				t.Fatalf("broken config: %v, want invalid_config", err)
			}
			f.update(t, tc.fixed)
			res, err := f.svc.Handle(context.Background(), in)
			if err != nil {
				t.Fatalf("after the fix: %v (the refused response burned its assertion ID)", err)
			}
			if res.Token == "" {
				t.Fatalf("no token: %+v", res)
			}
		})
	}
}
