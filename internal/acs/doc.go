// Package acs is the login use case: StartLogin (the login link: an
// AuthnRequest and the sealed login cookie that binds it to this browser)
// and Handle (the ACS: verify a SAML response for an account, read the
// login cookie, run every check, enforce one-time use through the store,
// map the assertion to a Flex identity, issue the session token or a Flex
// token, and choose where the browser goes). A verified unsolicited
// response is by default answered with a fresh StartLogin (the bounce),
// which is why both halves live here. It also owns the account and
// verifier cache, and KeyRefresher, the optional key-source method that
// lets a login cookie sealed with a just-rotated key open.
//
// Order matters: every check (signature, InResponseTo, IdP-initiated
// policy, attributes, configuration, redirect target, keys) runs before
// Assertions.MarkUsed, so a refused response never burns its assertion ID,
// and MarkUsed runs before any token exists, so a replay never gets one.
//
// Must not import net/http (internal/httpapi translates HTTP to Input and
// Result to HTTP) nor an AWS SDK (the store and key interfaces hide them),
// so the same rules run on Lambda and in `samlflex serve` and are tested
// here without a server.
package acs
