package acs

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestStartLogin: the login link sends the browser to the IdP with an
// AuthnRequest and a cookie that names it; every refusal has its code.
func TestStartLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		account    func(*samlflex.Account)
		config     func(*Config)
		fault      func(*faultStore)
		sid        string
		relay      string
		wantCode   samlflex.Code
		wantSigned bool
	}{
		{name: "unsigned request", relay: altURL},
		{name: "signed request", account: func(a *samlflex.Account) { a.SignAuthnRequests = true }, wantSigned: true},
		{name: "RelayState over 80 bytes", relay: strings.Repeat("x", 81), wantCode: samlflex.CodeBadRequest},
		{name: "unknown account", sid: "AC00000000000000000000000000000001", wantCode: samlflex.CodeUnknownAccount},
		{name: "store unavailable", fault: func(s *faultStore) { s.getErr = errOutage }, wantCode: samlflex.CodeStoreUnavailable},
		{name: "keys unavailable", config: func(c *Config) { c.Keys = fakeKeys{err: errOutage} }, wantCode: samlflex.CodeKeysUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			acct := testAccount(t, "")
			if tc.account != nil {
				tc.account(&acct)
			}
			f := newFixture(t, acct, tc.config)
			if tc.fault != nil {
				tc.fault(f.st)
			}
			sid := testSID
			if tc.sid != "" {
				sid = tc.sid
			}
			login, err := f.svc.StartLogin(context.Background(), sid, tc.relay)
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tc.wantCode)
			}
			if err != nil {
				return
			}
			loc, err := url.Parse(login.RedirectURL)
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if loc.Host != "acme.my.salesforce.com" || q.Get("SAMLRequest") == "" || q.Get("RelayState") != tc.relay || (q.Get("Signature") != "") != tc.wantSigned {
				t.Fatalf("redirect %s", loc)
			}
			if login.AccountSID != testSID || login.CookieTTL != DefaultLoginTTL {
				t.Errorf("login %+v", login)
			}
			st, err := new(session.LoginKeys).Open(f.set.ByKid, login.Cookie, testSID, testNow)
			if err != nil || !strings.HasPrefix(st.RequestID, "_samlflex_") || st.Bounced != 0 || st.Expires != testNow.Add(DefaultLoginTTL).Unix() {
				t.Fatalf("cookie %+v %v", st, err)
			}
			// The cookie answers the login it started: the verifier gets
			// its request ID (a golden response names another one).
			_, err = f.svc.Handle(context.Background(), Input{AccountSID: testSID, LoginCookie: login.Cookie,
				SAMLResponse: []byte(samlflextest.Golden(t, "response-signed.b64"))})
			if samlflex.CodeOf(err) != samlflex.CodeInResponseToMismatch {
				t.Fatalf("answer to another request: %v", err)
			}
		})
	}
}

// TestBounceDropsLongRelay: a kept RelayState that would push the cookie
// towards the browsers' 4 KB limit is dropped (the start URL is used).
func TestBounceDropsLongRelay(t *testing.T) {
	t.Parallel()
	long := "https://flex.example.com/" + strings.Repeat("a", session.MaxLoginRelay)
	acct := testAccount(t, "")
	acct.AllowedRedirects = []string{long}
	f := newFixture(t, acct, nil)
	res, err := f.svc.Handle(context.Background(), Input{AccountSID: testSID, RelayState: long,
		SAMLResponse: []byte(samlflextest.Golden(t, "unsolicited.b64"))})
	if err != nil || !res.Bounce {
		t.Fatalf("%+v %v", res, err)
	}
	st, err := new(session.LoginKeys).Open(f.set.ByKid, res.Login.Cookie, testSID, testNow)
	if err != nil || st.Relay != "" || st.Bounced == 0 {
		t.Fatalf("cookie %+v %v", st, err)
	}
}

// refreshingKeys serves a stale set until asked for an unknown kid, like
// smkeys does on an instance that has not seen a rotation yet.
type refreshingKeys struct {
	stale, fresh *keys.Set
	refreshed    chan string
}

func (k *refreshingKeys) Keys(context.Context) (*keys.Set, error) { return k.stale, nil }

func (k *refreshingKeys) KeyForKid(_ context.Context, kid string) (*keys.Pair, error) {
	k.refreshed <- kid
	if p := k.fresh.ByKid(kid); p != nil {
		return p, nil
	}
	return nil, errors.New("unknown kid")
}

var _ KeyRefresher = (*refreshingKeys)(nil)

// TestLoginCookieAcrossRotation: the login link ran on an instance that
// already had the rotated keys; the ACS post lands on one that still
// caches the old set. The unknown kid refreshes the keys once through
// KeyRefresher and the login goes through.
func TestLoginCookieAcrossRotation(t *testing.T) {
	t.Parallel()
	newCur, err := keys.Generate(keys.P256, testNow.Add(-time.Hour), 48*time.Hour, "new", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var ks *refreshingKeys
	f := newFixture(t, testAccount(t, ""), func(c *Config) {
		stale := c.Keys.(fakeKeys).set
		ks = &refreshingKeys{stale: stale, fresh: &keys.Set{Previous: stale.Current, Current: newCur}, refreshed: make(chan string, 2)}
		c.Keys = ks
	})
	cookie, err := new(session.LoginKeys).Seal(ks.fresh, session.LoginState{RequestID: goldenReqID, AccountSID: testSID, Expires: testNow.Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Handle(context.Background(), Input{AccountSID: testSID, LoginCookie: cookie,
		SAMLResponse: []byte(samlflextest.Golden(t, "response-signed.b64"))})
	if err != nil || res.Token == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if len(ks.refreshed) != 1 || <-ks.refreshed != newCur.Kid {
		t.Fatal("the unknown kid did not refresh the key set exactly once")
	}
}

// TestAdmit: Handle verifies only inside Config.Admit's bound, returns its
// refusal as is (nothing checked, nothing recorded) and releases the slot
// on every path.
func TestAdmit(t *testing.T) {
	t.Parallel()
	busy := samlflex.Errorf(samlflex.CodeServerBusy, "test: no slot")
	tests := []struct {
		name     string
		refuse   bool
		response string
		wantCode samlflex.Code
	}{
		{name: "admitted, login ok", response: "unsolicited.b64"},
		{name: "admitted, response refused", response: "response-signed.b64", wantCode: samlflex.CodeUnknownRequest},
		{name: "refused", refuse: true, response: "unsolicited.b64", wantCode: samlflex.CodeServerBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var acquired, released int
			f := newFixture(t, testAccount(t, samlflex.IdPInitiatedAccept), func(c *Config) {
				c.Admit = func(context.Context) (func(), error) {
					acquired++
					if tc.refuse {
						return nil, busy
					}
					return func() { released++ }, nil
				}
			})
			_, err := f.svc.Handle(context.Background(), Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, tc.response))})
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tc.wantCode)
			}
			if tc.refuse && (!errors.Is(err, busy) || f.st.marks.Load() != 0) {
				t.Fatalf("refusal %v, %d one-time writes", err, f.st.marks.Load())
			}
			wantReleased := 1
			if tc.refuse {
				wantReleased = 0
			}
			if acquired != 1 || released != wantReleased {
				t.Fatalf("acquired %d released %d, want 1 and %d", acquired, released, wantReleased)
			}
		})
	}
}
