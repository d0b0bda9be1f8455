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

// TestReplayHorizon: once the store reports a replay horizon (it may have
// lost the record of responses used before a crash), no response that
// could have been used before it gets a token or burns its ID: a response
// to a login started under another horizon, or an unsolicited one issued
// before the horizon plus the skew, is answered with a fresh login whose
// cookie carries the current horizon; the answer to that login is
// granted.
func TestReplayHorizon(t *testing.T) {
	t.Parallel()
	const (
		solicited   = "response-signed.b64"
		unsolicited = "unsolicited.b64"
	)
	acct := testAccount(t, samlflex.IdPInitiatedAccept)
	// The golden unsolicited response's IssueInstant, as the verifier reads
	// it.
	a, err := verifierAt(t, acct, testNow).Verify([]byte(samlflextest.Golden(t, unsolicited)), samlflex.Expect{})
	if err != nil {
		t.Fatal(err)
	}
	issued := a.IssueInstant
	// The latest horizon after which the response still counts as issued
	// after it (issued >= horizon + skew).
	edge := issued.Add(-acct.Skew())
	crash := testNow.Add(-time.Hour)

	tests := []struct {
		name     string
		horizon  time.Time
		response string
		cookie   *session.LoginState
		bounce   bool
		wantCode samlflex.Code
	}{
		{name: "no horizon, solicited", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID}},
		{name: "no horizon, unsolicited", response: unsolicited},
		{name: "login started before the horizon", horizon: crash, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID}, bounce: true},
		{name: "login started under an older horizon", horizon: crash, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Horizon: crash.Add(-time.Hour).UnixNano()}, bounce: true},
		{name: "login started under the current horizon", horizon: crash, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Horizon: crash.UnixNano()}},
		{name: "login started by a process that read a later horizon", horizon: crash, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Horizon: crash.UnixNano() + 1}},
		{name: "unsolicited, issued at the horizon plus the skew", horizon: edge, response: unsolicited},
		{name: "unsolicited, issued just before the horizon plus the skew", horizon: edge.Add(time.Nanosecond), response: unsolicited, bounce: true},
		{name: "unsolicited right after a bounce", horizon: edge.Add(time.Nanosecond), response: unsolicited,
			cookie:   &session.LoginState{RequestID: "_samlflex_other", Bounced: testNow.Unix(), Horizon: edge.Add(time.Nanosecond).UnixNano()},
			wantCode: samlflex.CodeIdPInitiatedLoop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, acct, nil)
			f.st.horizon = tc.horizon
			in := Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, tc.response)), RelayState: altURL}
			if tc.cookie != nil {
				in.LoginCookie = f.cookie(t, *tc.cookie)
			}
			res, err := f.svc.Handle(context.Background(), in)
			if codeOf(err) != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", codeOf(err), err, tc.wantCode)
			}
			marks := f.st.marks.Load()
			switch {
			case tc.wantCode != "":
				if marks != 0 {
					t.Errorf("%d one-time writes for a refusal", marks)
				}
			case tc.bounce:
				wantBounce(t, f, res, altURL)
				if marks != 0 {
					t.Errorf("%d one-time writes for a bounce", marks)
				}
				if !strings.Contains(f.logs.String(), `"msg":"replay_horizon_bounce"`) {
					t.Errorf("log:\n%s", f.logs)
				}
				st, err := new(session.LoginKeys).Open(f.set.ByKid, res.Login.Cookie, testSID, testNow)
				if err != nil || st.Horizon != tc.horizon.UnixNano() {
					t.Errorf("the fresh login's cookie carries horizon %d, want %d (%v)", st.Horizon, tc.horizon.UnixNano(), err)
				}
			default:
				wantToken(t, res, altURL, "samlflex")
				if marks != 1 {
					t.Errorf("%d one-time writes for a login", marks)
				}
			}
		})
	}
}

// TestLoginCarriesHorizon: the login link stamps its cookie with the
// store's horizon (none: no stamp), which is what lets its answer in.
func TestLoginCarriesHorizon(t *testing.T) {
	t.Parallel()
	for _, h := range []time.Time{{}, testNow.Add(-time.Hour)} {
		f := newFixture(t, testAccount(t, samlflex.IdPInitiatedBounce), nil)
		f.st.horizon = h
		login, err := f.svc.StartLogin(context.Background(), testSID, "")
		if err != nil {
			t.Fatal(err)
		}
		st, err := new(session.LoginKeys).Open(f.set.ByKid, login.Cookie, testSID, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if want := horizonStamp(h); st.Horizon != want {
			t.Errorf("horizon %v: cookie stamp %d, want %d", h, st.Horizon, want)
		}
	}
}
