package acs

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const (
	testBase = "https://sso.example.com"
	testSID  = "AC0123456789abcdef0123456789abcdef"
)

var testNow = time.Date(2026, 1, 15, 10, 0, 10, 0, time.UTC)

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pkg", "samlflex", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recorder is a store.Assertions that remembers what it was asked.
type recorder struct {
	mu      sync.Mutex
	key     string
	expires time.Time
	calls   int
}

func (r *recorder) MarkUsed(_ context.Context, key string, expiresAt, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.key, r.expires = key, expiresAt
	r.calls++
	return nil
}

type staticKeys struct{ set *keys.Set }

func (k staticKeys) Keys(context.Context) (*keys.Set, error) { return k.set, nil }

func testAccount(t *testing.T, mode samlflex.IdPInitiatedMode) *samlflex.Account {
	return &samlflex.Account{AccountSID: testSID, FriendlyName: "Salesforce", IdPCertificates: []string{testdata(t, "keys/idp-rsa.crt")},
		IdPIssuer: "https://acme.my.salesforce.com", IdPSSOURL: "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect",
		StartURL: "https://flex.example.com/agent-desktop", IdPInitiated: mode, ClockSkew: samlflex.Duration(2 * time.Minute)}
}

func verifierAt(t *testing.T, acct *samlflex.Account, at time.Time) *samlflex.Verifier {
	t.Helper()
	v, err := samlflex.NewVerifier(samlflex.VerifierConfig{Account: *acct, BaseURL: testBase, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newService(t *testing.T, rec *recorder, logs *bytes.Buffer) *Service {
	t.Helper()
	cur, err := keys.Generate(keys.P256, testNow.Add(-time.Hour), 48*time.Hour, "acs test", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{BaseURL: testBase, Assertions: rec, Keys: staticKeys{&keys.Set{Current: cur}},
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Now: func() time.Time { return testNow }}
}

// TestReplayRecordOutlivesAcceptance: the one-time-use record is kept at
// least until the last instant at which the verifier (with the account's
// skew) would still accept the assertion; a record that expired earlier
// would let a captured response in a second time.
func TestReplayRecordOutlivesAcceptance(t *testing.T) {
	t.Parallel()
	acct := testAccount(t, samlflex.IdPInitiatedAccept)
	rec := &recorder{}
	raw := testdata(t, "unsolicited.b64")
	res, err := newService(t, rec, &bytes.Buffer{}).Handle(context.Background(),
		Input{Account: acct, Verifier: verifierAt(t, acct, testNow), SAMLResponse: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	if rec.calls != 1 || rec.key != res.Assertion.ReplayKey(testSID) {
		t.Fatalf("recorded %d times, key %q", rec.calls, rec.key)
	}
	// Still accepted one nanosecond before the record expires...
	if _, err := verifierAt(t, acct, rec.expires.Add(-time.Nanosecond)).Verify([]byte(raw), samlflex.Expect{}); err != nil {
		t.Fatalf("record expires at %s but the response is refused just before: %v", rec.expires, err)
	}
	// ...and refused from then on, so the record is not kept for nothing.
	if _, err = verifierAt(t, acct, rec.expires).Verify([]byte(raw), samlflex.Expect{}); err == nil {
		t.Fatalf("still accepted when the record expires at %s", rec.expires)
	}
}

// TestBounceRecordsNothing: the bounce answers an unsolicited response
// without marking it used or issuing a token, and refuses a second
// unsolicited response right after a bounce (loop).
func TestBounceRecordsNothing(t *testing.T) {
	t.Parallel()
	acct := testAccount(t, "")
	acct.AllowedRedirects = []string{"https://flex.example.com/supervisor"}
	raw := []byte(testdata(t, "unsolicited.b64"))
	for _, tc := range []struct{ relay, want string }{
		{"https://flex.example.com/supervisor", "https://flex.example.com/supervisor"},
		{"https://flex.example.com/agent-desktop", "https://flex.example.com/agent-desktop"},
		{"https://evil.example/", ""},
		{"", ""},
	} {
		rec, logs := &recorder{}, &bytes.Buffer{}
		res, err := newService(t, rec, logs).Handle(context.Background(),
			Input{Account: acct, Verifier: verifierAt(t, acct, testNow), SAMLResponse: raw, RelayState: tc.relay})
		if err != nil || !res.Bounce || res.Token != "" || res.Redirect != nil || res.BounceRelayState != tc.want || rec.calls != 0 {
			t.Fatalf("relay %q: %+v %v, recorded %d", tc.relay, res, err, rec.calls)
		}
		if !strings.Contains(logs.String(), `"msg":"idp_initiated_bounce"`) {
			t.Fatalf("log:\n%s", logs)
		}
	}
	rec := &recorder{}
	_, err := newService(t, rec, &bytes.Buffer{}).Handle(context.Background(),
		Input{Account: acct, Verifier: verifierAt(t, acct, testNow), SAMLResponse: raw, Bounced: true})
	if samlflex.CodeOf(err) != samlflex.CodeIdPInitiatedLoop || rec.calls != 0 {
		t.Fatalf("after a bounce: %v, recorded %d", err, rec.calls)
	}
}
