// Package acs is the ACS use case: verify a SAML response for an account,
// enforce one-time use through the store, map it to a Flex identity, issue
// the session token and choose where the browser goes. It owns no HTTP
// (internal/httpapi does) and no SDK (the store and key interfaces hide
// them), so the same rules run on Lambda and in `samlflex serve`.
package acs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Input is one POST to the ACS.
type Input struct {
	Account      *samlflex.Account
	Verifier     *samlflex.Verifier
	SAMLResponse []byte
	RelayState   string
	// RequestID comes from the login cookie ("" when there is none).
	RequestID string
	// LogID is the HTTP request id, for the log lines of this login.
	LogID string
	// Bounced says the login cookie records that this browser was just
	// sent to the IdP to answer an unsolicited response (loop guard).
	Bounced bool
}

// Result is a successful login.
type Result struct {
	Identity  samlflex.FlexIdentity
	Assertion *samlflex.Assertion
	Token     string
	Claims    session.Claims
	// Redirect is the start URL or an allowlisted RelayState target, with
	// the token in the fragment (never in the query: fragments are not
	// sent to servers or in Referer headers).
	Redirect *url.URL
	// TokenKind is "samlflex" or "flex".
	TokenKind string
	// Bounce is set instead of a token when a verified unsolicited response
	// must be answered with a fresh SP-initiated login (IdPInitiated
	// "bounce"). BounceRelayState is the allowlisted target to carry
	// through that login, or "" for the start URL.
	Bounce           bool
	BounceRelayState string
}

// Provisioner turns a verified identity into a Flex user and a Flex token
// (issue: Flex connector). Nil means samlflex issues its own token.
type Provisioner interface {
	Provision(ctx context.Context, acct *samlflex.Account, id samlflex.FlexIdentity) (token string, err error)
}

// Service runs the use case.
type Service struct {
	BaseURL     string
	Assertions  store.Assertions
	Keys        keys.Source
	Provisioner Provisioner
	Logger      *slog.Logger
	Now         func() time.Time
}

// Handle verifies and consumes one response. Errors are *samlflex.Error.
func (s *Service) Handle(ctx context.Context, in Input) (*Result, error) {
	now := s.Now()
	a, err := in.Verifier.Verify(in.SAMLResponse, samlflex.Expect{RequestID: in.RequestID})
	if err != nil {
		return nil, err
	}
	if a.Unsolicited && in.Account.IdPInitiatedEffective() == samlflex.IdPInitiatedBounce {
		return s.bounce(ctx, in, a)
	}
	id, err := samlflex.Map(a, in.Account.Mapping())
	if err != nil {
		return nil, err
	}
	// One-time use comes after every check so that a refused response
	// does not burn its ID, and before any token exists so that a replay
	// never gets one. The write is conditional: of concurrent posts of one
	// response exactly one passes.
	switch err := s.Assertions.MarkUsed(ctx, a.ReplayKey(in.Account.AccountSID), a.NotOnOrAfter, now); {
	case errors.Is(err, store.ErrAlreadyExists):
		return nil, samlflex.Errorf(samlflex.CodeAssertionReplayed, "assertion %s of %s was already used", Clip(a.ID), in.Account.AccountSID)
	case err != nil:
		return nil, samlflex.Errorf(samlflex.CodeStoreUnavailable, "marking assertion used: %v", err)
	}

	res := &Result{Identity: id, Assertion: a}
	if in.Account.Flex != nil && s.Provisioner == nil {
		// Never hand out samlflex's token where the admin asked for Flex:
		// the agent would land in an app that cannot use it.
		return nil, samlflex.Errorf(samlflex.CodeInvalidConfig, "account %s has a Flex connection but this deployment has no Flex provisioner (SAMLFLEX_FLEX_SECRET_PREFIX unset?)", in.Account.AccountSID)
	}
	if in.Account.Flex != nil {
		tok, err := s.Provisioner.Provision(ctx, in.Account, id)
		if err != nil {
			return nil, err
		}
		res.Token, res.TokenKind = tok, "flex"
	} else {
		set, err := s.Keys.Keys(ctx)
		if err != nil {
			return nil, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err)
		}
		tok, claims, err := session.Issue(set, session.Input{
			Issuer: s.BaseURL, Subject: id.Identity, AccountSID: in.Account.AccountSID,
			Name: id.FullName, Email: id.Email, Roles: id.Roles,
			AuthTime: a.AuthnInstant, Now: now, TTL: in.Account.SessionTTL(),
		}, nil)
		if err != nil {
			return nil, samlflex.Errorf(samlflex.CodeInternal, "issuing token: %v", err)
		}
		res.Token, res.Claims, res.TokenKind = tok, claims, "samlflex"
	}
	target, err := RedirectTarget(in.Account, in.RelayState)
	if err != nil {
		return nil, err
	}
	// A Flex token goes to the Flex UI or Flex SDK app, which reads it from
	// the fragment and calls createClient(token) (Flex SDK authentication,
	// option "build your own authentication").
	if res.TokenKind == "flex" && in.Account.Flex.DeliveryURL != "" {
		if target, err = url.Parse(in.Account.Flex.DeliveryURL); err != nil {
			return nil, samlflex.Errorf(samlflex.CodeInvalidConfig, "Flex delivery URL of %s: %v", in.Account.AccountSID, err)
		}
	}
	target.Fragment = "token=" + res.Token
	res.Redirect = target

	attrs := []any{"request_id", in.LogID, "account_sid", in.Account.AccountSID, "assertion_id", Clip(a.ID), "issuer", Clip(a.Issuer),
		"issuer_rule", string(a.IssuerRule), "signed", a.Signed, "unsolicited", a.Unsolicited,
		"subject_hash", SubjectHash(id.Identity), "roles", id.Roles, "roles_defaulted", id.RolesDefaulted,
		"token", res.TokenKind}
	s.Logger.InfoContext(ctx, "login", attrs...)
	if a.IssuerRule == samlflex.IssuerNormalized {
		s.Logger.InfoContext(ctx, "issuer admitted by the Salesforce compatibility rule",
			"request_id", in.LogID, "account_sid", in.Account.AccountSID, "issuer", Clip(a.Issuer), "configured_issuer", in.Account.IdPIssuer,
			"hint", "set the account's IdP issuer to the assertion's Issuer to match exactly")
	}
	return res, nil
}

// bounce answers a verified unsolicited response without using it. Login
// CSRF is an attacker's own valid unsolicited response auto-posted into a
// victim's browser; answering every unsolicited response with a new
// AuthnRequest means a token only ever answers a login this browser
// started, and the IdP picks the identity from its own session with this
// browser (the App Launcher user's, invisibly; never the attacker's).
//
// The assertion ID is not marked used: nothing is granted, so there is
// nothing to replay, and a store write per bounce would only add cost. A
// re-post of the same response bounces again, which is harmless.
func (s *Service) bounce(ctx context.Context, in Input, a *samlflex.Assertion) (*Result, error) {
	if in.Bounced {
		// The IdP answered our AuthnRequest with another unsolicited
		// response: bouncing again would loop forever.
		return nil, samlflex.Errorf(samlflex.CodeIdPInitiatedLoop, "unsolicited response %s from %s right after a bounce of %s: the IdP ignores AuthnRequests (idp_initiated)",
			Clip(a.ID), Clip(a.Issuer), in.Account.AccountSID)
	}
	relay := ""
	if in.RelayState != "" && AllowedRelayState(in.Account, in.RelayState) {
		relay = in.RelayState
	}
	s.Logger.InfoContext(ctx, "idp_initiated_bounce", "request_id", in.LogID, "account_sid", in.Account.AccountSID,
		"assertion_id", Clip(a.ID), "issuer", Clip(a.Issuer), "relay_state_kept", relay != "")
	return &Result{Assertion: a, Bounce: true, BounceRelayState: relay}, nil
}

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
