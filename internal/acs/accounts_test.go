package acs

import (
	"context"
	"testing"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestAccountCacheReusesVerifier: with no TTL (serve) every request reads
// the store, but the verifier (its parsed certificates) is rebuilt only
// when the account read differs; a changed setting applies at once.
func TestAccountCacheReusesVerifier(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccount(t, samlflex.IdPInitiatedBounce), nil)
	ctx := context.Background()
	a1, v1, err := f.svc.accounts.get(ctx, testSID)
	if err != nil {
		t.Fatal(err)
	}
	_, v2, err := f.svc.accounts.get(ctx, testSID)
	if err != nil {
		t.Fatal(err)
	}
	if v1 != v2 {
		t.Fatal("an unchanged account got a new verifier")
	}
	changed := *a1
	changed.IdPIssuer = "https://other.my.salesforce.com"
	if _, err := f.st.Put(ctx, changed, a1.Version, testNow); err != nil {
		t.Fatal(err)
	}
	a3, v3, err := f.svc.accounts.get(ctx, testSID)
	if err != nil {
		t.Fatal(err)
	}
	if v3 == v1 || a3.IdPIssuer != changed.IdPIssuer {
		t.Fatalf("a changed account kept its old verifier (issuer %q)", a3.IdPIssuer)
	}
}
