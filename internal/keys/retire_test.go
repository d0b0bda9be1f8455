package keys_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

var retireNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func genPair(t *testing.T) *keys.Pair {
	t.Helper()
	p, err := keys.Generate(keys.P256, retireNow.Add(-time.Hour), 365*24*time.Hour, "retire test", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRetire pins both sides of the bound: the previous key verifies (is
// among Verifying, which feeds the JWKS, and ByKid, which opens login
// cookies) until CurrentSince + lifetime + margin, and not from then on.
func TestRetire(t *testing.T) {
	t.Parallel()
	p, c, n := genPair(t), genPair(t), genPair(t)
	rotatedAt := retireNow
	cur := *c
	cur.CurrentSince = rotatedAt
	full := &keys.Set{Previous: p, Current: &cur, Next: n}
	unknown := &keys.Set{Previous: p, Current: c, Next: n} // stored before current_since existed
	const life, margin = 24 * time.Hour, time.Hour
	bound := rotatedAt.Add(life + margin)
	tests := []struct {
		name         string
		set          *keys.Set
		now          time.Time
		life, margin time.Duration
		wantPrevious bool
	}{
		{"right after the rotation", full, rotatedAt, life, margin, true},
		{"one token lifetime later, margin not yet over", full, rotatedAt.Add(life), life, margin, true},
		{"one nanosecond before the bound", full, bound.Add(-time.Nanosecond), life, margin, true},
		{"at the bound", full, bound, life, margin, false},
		{"long after", full, rotatedAt.Add(90 * 24 * time.Hour), life, margin, false},
		{"shorter lifetime retires sooner", full, rotatedAt.Add(2 * time.Hour), time.Hour, margin, false},
		{"larger margin retires later", full, bound, life, 2 * time.Hour, true},
		{"rotation time unknown: kept", unknown, rotatedAt.Add(365 * 24 * time.Hour), life, margin, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := keys.Retire(tt.set, tt.now, tt.life, tt.margin)
			hasPrev := got.Previous != nil
			inVerifying := strings.Contains(kidList(got.Verifying()), p.Kid)
			byKid := got.ByKid(p.Kid) != nil
			if hasPrev != tt.wantPrevious || inVerifying != tt.wantPrevious || byKid != tt.wantPrevious {
				t.Errorf("previous kept=%v verifying=%v byKid=%v, want %v", hasPrev, inVerifying, byKid, tt.wantPrevious)
			}
			// Current and next are never touched, and s itself never is.
			if got.Current != tt.set.Current || got.Next != tt.set.Next {
				t.Error("Retire changed current or next")
			}
			if tt.set.Previous != p {
				t.Error("Retire modified its argument")
			}
			if tt.wantPrevious && got != tt.set {
				t.Error("Retire copied a set it did not change")
			}
		})
	}
}

func TestPreviousRetiresAt(t *testing.T) {
	t.Parallel()
	c := genPair(t)
	c.CurrentSince = retireNow
	if _, ok := keys.PreviousRetiresAt(&keys.Set{Current: c}, time.Hour, time.Hour); ok {
		t.Error("a set without previous has a retirement time")
	}
	at, ok := keys.PreviousRetiresAt(&keys.Set{Previous: genPair(t), Current: c}, 24*time.Hour, time.Hour)
	if !ok || !at.Equal(retireNow.Add(25*time.Hour)) {
		t.Errorf("PreviousRetiresAt = %v, %v, want %v", at, ok, retireNow.Add(25*time.Hour))
	}
}

// TestMaxTokenLifetimeCoversAccounts keeps keys.MaxTokenLifetime at the cap
// of an account's token_ttl: if the cap grows, keys would retire while
// tokens they signed are still valid.
func TestMaxTokenLifetimeCoversAccounts(t *testing.T) {
	t.Parallel()
	base := samlflex.Account{
		AccountSID:      samlflextest.AccountSID,
		IdPCertificates: []string{},
	}
	over := base
	over.TokenTTL = samlflex.Duration(keys.MaxTokenLifetime + time.Second)
	if err := over.Validate(retireNow); err == nil || !strings.Contains(err.Error(), "token_ttl") {
		t.Errorf("an account with token_ttl above keys.MaxTokenLifetime validates (%v): raise MaxTokenLifetime with the cap", err)
	}
	at := base
	at.TokenTTL = samlflex.Duration(keys.MaxTokenLifetime)
	if err := at.Validate(retireNow); err != nil && strings.Contains(err.Error(), "token_ttl") {
		t.Errorf("token_ttl = keys.MaxTokenLifetime is refused (%v): lower MaxTokenLifetime with the cap", err)
	}
}

func kidList(ps []*keys.Pair) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Kid)
	}
	return strings.Join(out, ",")
}
