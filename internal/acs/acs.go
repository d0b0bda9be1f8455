package acs

import (
	"context"
	"errors"
	"net/url"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Input is one POST to the ACS, as the browser sent it.
type Input struct {
	AccountSID   string
	SAMLResponse []byte
	RelayState   string
	// LoginCookie is the login cookie's value ("" when there is none).
	LoginCookie string
	// LogID is the HTTP request id, for the log lines of this login.
	LogID string
	// Account, when set, is the account as Prepare read it for this
	// request (the HTTP layer needs its size cap before the body): Handle
	// then uses it instead of reading the account a second time, so both
	// see the same version.
	Account *Prepared
}

// Prepared is an account and its verifier, read once for one request.
type Prepared struct {
	sid  string
	acct *samlflex.Account
	v    *samlflex.Verifier
}

// Account is the account read.
func (p *Prepared) Account() *samlflex.Account { return p.acct }

// Prepare reads the account for one ACS request (through the account
// cache), for Input.Account.
func (s *Service) Prepare(ctx context.Context, sid string) (*Prepared, error) {
	acct, v, err := s.accounts.get(ctx, sid)
	if err != nil {
		return nil, err
	}
	return &Prepared{sid: sid, acct: acct, v: v}, nil
}

// Result is a successful ACS post: a login (Redirect with a token) or,
// with Bounce, a fresh SP-initiated login (Login).
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
	// is answered with a fresh SP-initiated login (IdPInitiated "bounce"):
	// Login is that login. BounceRelayState is the allowlisted target it
	// carries in its cookie, or "" for the start URL.
	Bounce           bool
	BounceRelayState string
	Login            *Login
}

// Handle verifies and consumes one response. Errors are *samlflex.Error.
func (s *Service) Handle(ctx context.Context, in Input) (*Result, error) {
	pre := in.Account
	if pre == nil || pre.sid != in.AccountSID {
		var err error
		if pre, err = s.Prepare(ctx, in.AccountSID); err != nil {
			return nil, err
		}
	}
	acct, v := pre.acct, pre.v
	state, err := s.openLogin(ctx, in)
	if err != nil {
		return nil, err
	}
	if in.RelayState == "" {
		// The answer to a bounce: the IdP was not given the RelayState of
		// the unsolicited response, the cookie kept it (allowlisted).
		in.RelayState = state.Relay
	}
	if s.admit != nil {
		release, err := s.admit(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	now := s.now()
	// Verify builds the decision trace only for a refusal: a valid login
	// does not pay for it.
	exp := samlflex.Expect{RequestID: state.RequestID}
	a, err := v.Verify(in.SAMLResponse, exp)
	if err != nil {
		// The attribute checks join the trace (once the signature held),
		// so that the page lists a missing roles attribute together with,
		// say, a wrong audience: one round trip to Salesforce, not two.
		samlflex.TraceOf(err).CheckMapping(acct.Mapping())
		return nil, err
	}
	epoch := s.assertions.ReplayEpoch()
	if !a.Unsolicited && state.Epoch < epoch {
		// The answer to a login started before the store last lost
		// deferred records (a machine crash): if it was used then, its
		// record may be gone. Grant nothing on it, start a fresh login.
		s.logger.InfoContext(ctx, "replay_epoch_bounce", "request_id", in.LogID, "account_sid", acct.AccountSID,
			"assertion_id", Clip(a.ID), "login_epoch", state.Epoch, "replay_epoch", epoch,
			"why", "the data store's machine went down while it was open: a login started before the restart starts again")
		return s.bounce(ctx, in, acct, v, a, false)
	}
	if a.Unsolicited && acct.IdPInitiatedEffective() == samlflex.IdPInitiatedBounce {
		return s.bounce(ctx, in, acct, v, a, state.RecentlyBounced(now))
	}
	id, err := samlflex.Map(a, acct.Mapping())
	if err != nil {
		// Rare (a setting or the connected app's attributes): the trace of
		// the verification is built now, with the attribute checks.
		_, trace, _ := v.VerifyTrace(in.SAMLResponse, exp)
		trace.CheckMapping(acct.Mapping())
		return nil, samlflex.WithTrace(err, trace)
	}
	p, err := s.plan(ctx, acct, in.RelayState)
	if err != nil {
		return nil, err
	}
	// One-time use comes after every check, so that a refused response
	// (including one refused for a configuration error the admin then
	// fixes) does not burn its ID, and before any token exists, so that a
	// replay never gets one. The write is conditional: of concurrent posts
	// of one response exactly one passes.
	//
	// The answer to a login started in the current epoch is recorded
	// deferred (no fsync): a machine crash that loses the record also
	// moves the epoch, and the login's cookie then no longer passes the
	// check above. That holds only if every copy of this assertion answers
	// that login (RequestBound: every bearer confirmation carries the
	// InResponseTo). Any other assertion, unsolicited ones included, could
	// come back without the login to date it: its record is durable before
	// a token exists.
	mark := s.assertions.MarkUsedDeferred
	if !a.RequestBound {
		mark = s.assertions.MarkUsed
	}
	switch err := mark(ctx, a.ReplayKey(acct.AccountSID), a.NotOnOrAfter, now); {
	case errors.Is(err, store.ErrAlreadyExists):
		return nil, samlflex.Errorf(samlflex.CodeAssertionReplayed, "assertion %s of %s was already used", Clip(a.ID), acct.AccountSID)
	case err != nil:
		return nil, samlflex.Errorf(samlflex.CodeStoreUnavailable, "marking assertion used: %v", err)
	}

	res := &Result{Identity: id, Assertion: a}
	if acct.Flex != nil {
		tok, err := s.provisioner.Provision(ctx, acct, id)
		if err != nil {
			return nil, err
		}
		res.Token, res.TokenKind = tok, "flex"
	} else {
		tok, claims, err := session.Issue(p.keys, session.Input{
			Issuer: s.baseURL, Subject: id.Identity, AccountSID: acct.AccountSID,
			Name: id.FullName, Email: id.Email, Roles: id.Roles,
			AuthTime: a.AuthnInstant, Now: now, TTL: acct.SessionTTL(), Alg: s.tokenAlg,
		}, nil)
		if err != nil {
			return nil, samlflex.Errorf(samlflex.CodeInternal, "issuing token: %v", err)
		}
		res.Token, res.Claims, res.TokenKind = tok, claims, "samlflex"
	}
	p.target.Fragment = "token=" + res.Token
	res.Redirect = p.target

	s.logger.InfoContext(ctx, "login", "request_id", in.LogID, "account_sid", acct.AccountSID, "assertion_id", Clip(a.ID), "issuer", Clip(a.Issuer),
		"issuer_rule", string(a.IssuerRule), "signed", a.Signed, "unsolicited", a.Unsolicited,
		"subject_hash", SubjectHash(id.Identity), "roles", id.Roles, "roles_defaulted", id.RolesDefaulted,
		"token", res.TokenKind)
	if a.IssuerRule == samlflex.IssuerNormalized {
		s.logger.InfoContext(ctx, "issuer admitted by the Salesforce compatibility rule",
			"request_id", in.LogID, "account_sid", acct.AccountSID, "issuer", Clip(a.Issuer), "configured_issuer", acct.IdPIssuer,
			"hint", "set the account's IdP issuer to the assertion's Issuer to match exactly")
	}
	return res, nil
}

// grant is what a verified response will get once it is marked used.
type grant struct {
	target *url.URL
	keys   *keys.Set // nil for a Flex token
}

// plan runs every check that depends on the account's configuration and
// the deployment, and loads what issuing needs, before the one-time write.
func (s *Service) plan(ctx context.Context, acct *samlflex.Account, relayState string) (grant, error) {
	if acct.Flex != nil && s.provisioner == nil {
		// Never hand out samlflex's token where the admin asked for Flex:
		// the agent would land in an app that cannot use it.
		return grant{}, samlflex.Errorf(samlflex.CodeInvalidConfig, "account %s has a Flex connection but this deployment has no Flex provisioner (SAMLFLEX_FLEX_SECRET_PREFIX unset?)", acct.AccountSID)
	}
	target, err := RedirectTarget(acct, relayState)
	if err != nil {
		return grant{}, err
	}
	if acct.Flex != nil {
		// A Flex token goes to the Flex UI or Flex SDK app, which reads it
		// from the fragment and calls createClient(token) (Flex SDK
		// authentication, option "build your own authentication").
		if acct.Flex.DeliveryURL != "" {
			if target, err = url.Parse(acct.Flex.DeliveryURL); err != nil {
				return grant{}, samlflex.Errorf(samlflex.CodeInvalidConfig, "Flex delivery URL of %s: %v", acct.AccountSID, err)
			}
		}
		return grant{target: target}, nil
	}
	set, err := s.keySet(ctx)
	if err != nil {
		return grant{}, err
	}
	return grant{target: target, keys: set}, nil
}

// bounce answers a verified unsolicited response without using it, with a
// fresh SP-initiated login. Login CSRF is an attacker's own valid
// unsolicited response auto-posted into a victim's browser; answering
// every unsolicited response with a new AuthnRequest means a token only
// ever answers a login this browser started, and the IdP picks the
// identity from its own session with this browser (the App Launcher
// user's, invisibly; never the attacker's).
//
// The assertion ID is not marked used: nothing is granted, so there is
// nothing to replay, and a store write per bounce would only add cost. A
// re-post of the same response bounces again, which is harmless.
func (s *Service) bounce(ctx context.Context, in Input, acct *samlflex.Account, v *samlflex.Verifier, a *samlflex.Assertion, recentlyBounced bool) (*Result, error) {
	if recentlyBounced {
		// The IdP answered our AuthnRequest with another unsolicited
		// response: bouncing again would loop forever.
		return nil, samlflex.Errorf(samlflex.CodeIdPInitiatedLoop, "unsolicited response %s from %s right after a bounce of %s: the IdP ignores AuthnRequests (idp_initiated)",
			Clip(a.ID), Clip(a.Issuer), acct.AccountSID)
	}
	relay := ""
	if in.RelayState != "" && AllowedRelayState(acct, in.RelayState) {
		relay = in.RelayState
	}
	login, err := s.startLogin(ctx, acct, v, "", session.LoginState{Bounced: s.now().Unix(), Relay: relay})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "idp_initiated_bounce", "request_id", in.LogID, "account_sid", acct.AccountSID,
		"assertion_id", Clip(a.ID), "issuer", Clip(a.Issuer), "relay_state_kept", relay != "")
	return &Result{Assertion: a, Bounce: true, BounceRelayState: relay, Login: login}, nil
}
