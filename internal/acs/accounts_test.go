package acs

import (
	"context"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
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

// TestHandleUsesPreparedAccount: the HTTP layer reads the account once
// (Prepare, for the body cap) and Handle verifies with that same read, even
// when the stored account changed in between; an Input prepared for
// another account is not used.
func TestHandleUsesPreparedAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccount(t, samlflex.IdPInitiatedAccept), nil)
	ctx := context.Background()
	pre, err := f.svc.Prepare(ctx, testSID)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Account().AccountSID != testSID {
		t.Fatalf("prepared %q", pre.Account().AccountSID)
	}
	// The admin changes the issuer after the body was sized: this login
	// still answers to the account as it was read.
	f.update(t, func(a *samlflex.Account) { a.IdPIssuer = "https://other.my.salesforce.com" })
	gets := f.st.gets.Load()
	res, err := f.svc.Handle(ctx, Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, "unsolicited.b64")), Account: pre})
	if err != nil || res.Token == "" {
		t.Fatalf("with the prepared account: %+v %v", res, err)
	}
	if n := f.st.gets.Load() - gets; n != 0 {
		t.Fatalf("Handle read the account %d more times", n)
	}
	// Prepared for another account SID: ignored, the account is read, and
	// the changed issuer refuses the response.
	other := &Prepared{sid: "AC" + strings.Repeat("f", 32), acct: pre.acct, v: pre.v}
	_, err = f.svc.Handle(ctx, Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, "unsolicited.b64")), Account: other})
	if samlflex.CodeOf(err) != samlflex.CodeIssuerMismatch {
		t.Fatalf("with a mismatched prepared account: %v, want issuer_mismatch from a fresh read", err)
	}
}
