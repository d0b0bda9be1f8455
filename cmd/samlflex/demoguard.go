package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/samlflex/samlflex/internal/demo"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// demoReason says why acct is the demo account that `samlflex dev` writes,
// or "" if it is not. The demo IdP signs for anyone who knows its printed
// password, and its private key sits in dev's data directory: an account
// that trusts it must never be served outside dev. Each mark alone is
// enough, so that an edited demo account is still caught.
func demoReason(acct samlflex.Account) string {
	if acct.AccountSID == demoAccountSID {
		return "it has the demo account's SID"
	}
	if u, err := url.Parse(acct.IdPIssuer); err == nil && u.Path == demo.IdPPath && isLoopbackHost(u.Hostname()) {
		return "its IdP issuer is the demo IdP (" + acct.IdPIssuer + ")"
	}
	for _, raw := range acct.IdPCertificates {
		block, _ := pem.Decode([]byte(raw))
		if block == nil {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err == nil && cert.Subject.CommonName == demo.FriendlyName {
			return "it trusts the demo IdP's certificate"
		}
	}
	return ""
}

// refuseDemoAccounts returns an error naming every demo account in the
// store and what the admin can do, or nil.
func refuseDemoAccounts(ctx context.Context, accounts store.Accounts, dataDir string) error {
	list, err := accounts.List(ctx)
	if err != nil {
		return fmt.Errorf("listing accounts: %v", err)
	}
	var found []string
	var sids []string
	for _, a := range list {
		if why := demoReason(a); why != "" {
			found = append(found, fmt.Sprintf("  %s (%s): %s", a.AccountSID, a.FriendlyName, why))
			sids = append(sids, a.AccountSID)
		}
	}
	if len(found) == 0 {
		return nil
	}
	var del strings.Builder
	for _, sid := range sids {
		fmt.Fprintf(&del, "\n  samlflex account delete --account-sid %s --data %s", sid, dataDir)
	}
	return fmt.Errorf(`the store in %s holds the demo account that "samlflex dev" writes:
%s
Its identity provider is the demo IdP, whose private key is on disk (%s) and
whose passwords are printed for anyone: serving it would let anyone sign in.
serve does not start. Either point --data at a directory that dev never used
(dev keeps its own, ./.samlflex-dev, since this release), or delete it:%s`,
		dataDir, strings.Join(found, "\n"), filepath.Join(dataDir, demo.IdPKeyFile), del.String())
}
