package acs

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestReplayEpoch: the answer to a login is recorded deferred (it may be
// lost in a machine crash, which moves the store's epoch), so it gets a
// token only if the login started in the current epoch (or a later one,
// read by another process): an older login is answered with a fresh one,
// stamped with the current epoch, and burns nothing. An unsolicited
// response has no login to date it: its record is durable, whatever the
// epoch.
func TestReplayEpoch(t *testing.T) {
	t.Parallel()
	const (
		solicited   = "response-signed.b64"
		unsolicited = "unsolicited.b64"
	)
	tests := []struct {
		name         string
		epoch        int64
		response     string
		cookie       *session.LoginState
		bounce       bool
		wantDeferred bool
	}{
		{name: "no crash, solicited", response: solicited, cookie: &session.LoginState{RequestID: goldenReqID}, wantDeferred: true},
		{name: "no crash, unsolicited", response: unsolicited},
		{name: "login started before the crash", epoch: 2, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID}, bounce: true},
		{name: "login started before the last crash", epoch: 2, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Epoch: 1}, bounce: true},
		{name: "login started in the current epoch", epoch: 2, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Epoch: 2}, wantDeferred: true},
		{name: "login started by a process that read a later epoch", epoch: 2, response: solicited,
			cookie: &session.LoginState{RequestID: goldenReqID, Epoch: 3}, wantDeferred: true},
		{name: "unsolicited after a crash", epoch: 2, response: unsolicited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, testAccount(t, samlflex.IdPInitiatedAccept), nil)
			f.st.epoch = tc.epoch
			in := Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, tc.response)), RelayState: altURL}
			if tc.cookie != nil {
				in.LoginCookie = f.cookie(t, *tc.cookie)
			}
			res, err := f.svc.Handle(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			marks, deferred := f.st.marks.Load(), f.st.deferred.Load()
			if tc.bounce {
				wantBounce(t, f, res, altURL)
				if marks != 0 {
					t.Errorf("%d one-time writes for a bounce", marks)
				}
				if !strings.Contains(f.logs.String(), `"msg":"replay_epoch_bounce"`) {
					t.Errorf("log:\n%s", f.logs)
				}
				st, err := new(session.LoginKeys).Open(f.set.ByKid, res.Login.Cookie, testSID, testNow)
				if err != nil || st.Epoch != tc.epoch {
					t.Errorf("the fresh login's cookie carries epoch %d, want %d (%v)", st.Epoch, tc.epoch, err)
				}
				return
			}
			wantToken(t, res, altURL, "samlflex")
			if marks != 1 || (deferred == 1) != tc.wantDeferred {
				t.Errorf("%d one-time writes, %d deferred; want 1, deferred %v", marks, deferred, tc.wantDeferred)
			}
		})
	}
}

// TestLoginCarriesEpoch: the login link stamps its cookie with the
// store's epoch, which is what lets its answer in.
func TestLoginCarriesEpoch(t *testing.T) {
	t.Parallel()
	for _, epoch := range []int64{0, 3} {
		f := newFixture(t, testAccount(t, samlflex.IdPInitiatedBounce), nil)
		f.st.epoch = epoch
		login, err := f.svc.StartLogin(context.Background(), testSID, "")
		if err != nil {
			t.Fatal(err)
		}
		st, err := new(session.LoginKeys).Open(f.set.ByKid, login.Cookie, testSID, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if st.Epoch != epoch {
			t.Errorf("epoch %d: cookie stamp %d", epoch, st.Epoch)
		}
	}
}

// TestNoReplayAfterCrash: a machine crash that loses every deferred record
// (and moves the epoch on) lets no copy of a used response in again: not
// the same post, not the Assertion with the Response's signature dropped
// (with or without the login cookie), right after the crash or once some
// of its confirmations have expired, for each shape of binding.
func TestNoReplayAfterCrash(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"response-signed.xml", "both-signed.xml", "both-signed-irt-response-only.xml",
		"response-signed-irt-response-only.xml", "both-signed-two-confirmations.xml", "response-signed-two-confirmations.xml", "unsolicited.xml"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			now := testNow
			f := newFixture(t, testAccount(t, samlflex.IdPInitiatedAccept), func(c *Config) {
				c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			})
			f.st.crashModel = &crashModel{durable: map[string]bool{}, deferred: map[string]bool{}}
			xml := samlflextest.Golden(t, file)
			cookie := f.cookie(t, session.LoginState{RequestID: goldenReqID, Expires: testNow.Add(10 * time.Minute).Unix()})
			post := func(xml, cookie string) (*Result, error) {
				return f.svc.Handle(context.Background(), Input{AccountSID: testSID,
					SAMLResponse: []byte(base64.StdEncoding.EncodeToString([]byte(xml))), LoginCookie: cookie})
			}
			res, err := post(xml, cookie)
			if err != nil || res.Token == "" {
				t.Fatalf("first use: %+v, %v", res, err)
			}
			f.st.crash()
			for _, at := range []time.Time{testNow, testNow.Add(4 * time.Minute)} {
				mu.Lock()
				now = at
				mu.Unlock()
				// The attacker holds the victim's login cookie too.
				for name, replay := range map[string]func() (*Result, error){
					"same post":                      func() (*Result, error) { return post(xml, cookie) },
					"Response signature dropped":     func() (*Result, error) { return post(dropResponseSignature(t, xml), "") },
					"dropped, with the login cookie": func() (*Result, error) { return post(dropResponseSignature(t, xml), cookie) },
				} {
					if res, err := replay(); err == nil && res.Token != "" {
						t.Errorf("%s at %s: a token for a used assertion after the crash", name, at.Format(time.TimeOnly))
					}
				}
			}
		})
	}
}

// dropResponseSignature removes the first ds:Signature of a response if
// it is the Response's (before the Assertion); a response without one is
// returned unchanged.
func dropResponseSignature(t *testing.T, xml string) string {
	t.Helper()
	start, end, asrt := strings.Index(xml, "<ds:Signature"), strings.Index(xml, "</ds:Signature>"), strings.Index(xml, "<saml:Assertion")
	if start < 0 || end < start || asrt < end {
		return xml
	}
	return xml[:start] + xml[end+len("</ds:Signature>"):]
}
