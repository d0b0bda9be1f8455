package acs

import (
	"context"
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
// least until the last instant at which the verifier (with the account's
// skew) would still accept the assertion; a record that expired earlier
// would let a captured response in a second time.
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
	// Still accepted one nanosecond before the record expires...
	if _, err := verifierAt(t, acct, expires.Add(-time.Nanosecond)).Verify([]byte(raw), samlflex.Expect{}); err != nil {
		t.Fatalf("record expires at %s but the response is refused just before: %v", expires, err)
	}
	// ...and refused from then on, so the record is not kept for nothing.
	if _, err = verifierAt(t, acct, expires).Verify([]byte(raw), samlflex.Expect{}); err == nil {
		t.Fatalf("still accepted when the record expires at %s", expires)
	}
}
