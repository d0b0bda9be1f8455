package acs

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// AllowedRelayState reports whether relayState is exactly the start URL
// or one of the account's allowed redirects.
func AllowedRelayState(acct *samlflex.Account, relayState string) bool {
	for _, allowed := range append([]string{acct.StartURL}, acct.AllowedRedirects...) {
		if relayState == allowed {
			return true
		}
	}
	return false
}

// RedirectTarget returns the start URL, or the RelayState when it is
// exactly the start URL or one of the account's allowed redirects. Anything
// else is ignored, never followed: an open redirect would hand the token to
// whoever wrote the RelayState.
func RedirectTarget(acct *samlflex.Account, relayState string) (*url.URL, error) {
	target := acct.StartURL
	if relayState != "" && AllowedRelayState(acct, relayState) {
		target = relayState
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, samlflex.Errorf(samlflex.CodeInvalidConfig, "start URL %q of %s", target, acct.AccountSID)
	}
	return u, nil
}

// SubjectHash identifies a user in logs without writing the NameID (often
// an e-mail address) in clear.
func SubjectHash(nameID string) string {
	sum := sha256.Sum256([]byte(nameID))
	return hex.EncodeToString(sum[:8])
}
