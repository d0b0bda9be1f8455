package acs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func verifierAt(t *testing.T, acct samlflex.Account, at time.Time) *samlflex.Verifier {
	t.Helper()
	v, err := samlflex.NewVerifier(samlflex.VerifierConfig{Account: acct, BaseURL: testBase, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReplayRecordOutlivesAcceptance: the one-time-use record is kept at
// least until the last instant at which the verifier would still accept
// the assertion under any settings the account may be given (the largest
// skew and max_authn_age); a record that expired earlier would let a
// captured response in a second time, for instance after the admin raised
// the skew to debug a clock.
func TestReplayRecordOutlivesAcceptance(t *testing.T) {
	t.Parallel()
	acct := testAccount(t, samlflex.IdPInitiatedAccept)
	f := newFixture(t, acct, nil)
	raw := samlflextest.Golden(t, "unsolicited.b64")
	res, err := f.svc.Handle(context.Background(), Input{AccountSID: testSID, SAMLResponse: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	f.st.mu.Lock()
	key, expires := f.st.lastKey, f.st.lastExpires
	f.st.mu.Unlock()
	if f.st.marks.Load() != 1 || key != res.Assertion.ReplayKey(testSID) {
		t.Fatalf("recorded %d times, key %q", f.st.marks.Load(), key)
	}
	widest := acct
	widest.ClockSkew, widest.MaxAuthnAge = samlflex.Duration(samlflex.MaxClockSkew), samlflex.Duration(samlflex.MaxMaxAuthnAge)
	// Still accepted one nanosecond before the record expires...
	if _, err := verifierAt(t, widest, expires.Add(-time.Nanosecond)).Verify([]byte(raw), samlflex.Expect{}); err != nil {
		t.Fatalf("record expires at %s but the response is refused just before: %v", expires, err)
	}
	// ...and refused from then on, so the record is not kept for nothing.
	if _, err = verifierAt(t, widest, expires).Verify([]byte(raw), samlflex.Expect{}); err == nil {
		t.Fatalf("still accepted when the record expires at %s", expires)
	}
}

// TestRaisedSkewDoesNotReopen: after a login, the admin raises the
// account's skew to the largest allowed; a replay of the used response,
// after the moment the old skew would have let its record expire, is still
// refused.
func TestRaisedSkewDoesNotReopen(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := testNow
	f := newFixture(t, testAccount(t, samlflex.IdPInitiatedAccept), func(c *Config) {
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	raw := []byte(samlflextest.Golden(t, "unsolicited.b64"))
	if _, err := f.svc.Handle(context.Background(), Input{AccountSID: testSID, SAMLResponse: raw}); err != nil {
		t.Fatal(err)
	}
	f.update(t, func(a *samlflex.Account) { a.ClockSkew = samlflex.Duration(samlflex.MaxClockSkew) })
	// The golden's conditions end at 10:05; the account's skew was 2
	// minutes, so a record sized by it would be gone at 10:07.
	mu.Lock()
	now = time.Date(2026, 1, 15, 10, 9, 0, 0, time.UTC)
	mu.Unlock()
	_, err := f.svc.Handle(context.Background(), Input{AccountSID: testSID, SAMLResponse: raw})
	if codeOf(err) != samlflex.CodeAssertionReplayed {
		t.Fatalf("replay after the skew was raised: %v, want %s", err, samlflex.CodeAssertionReplayed)
	}
}
