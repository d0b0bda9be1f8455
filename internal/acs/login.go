package acs

import (
	"context"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Login is a started SP-initiated login: the browser goes to RedirectURL
// (the IdP, with the AuthnRequest) carrying Cookie, the sealed login state,
// for CookieTTL.
type Login struct {
	AccountSID  string
	RedirectURL string
	Cookie      string
	CookieTTL   time.Duration
}

// StartLogin starts an SP-initiated login for account sid (the login
// link). relayState goes to the IdP and is checked again at the ACS.
func (s *Service) StartLogin(ctx context.Context, sid, relayState string) (*Login, error) {
	acct, v, err := s.accounts.get(ctx, sid)
	if err != nil {
		return nil, err
	}
	// The link is anonymous and costs a store read, the cookie and, for an
	// account that signs its AuthnRequests, an RSA signature: it shares
	// the validations' admission limit, so a flood of links cannot take the
	// CPUs the ACS is held to (server_busy past the queue).
	if s.admit != nil {
		release, err := s.admit(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return s.startLogin(ctx, acct, v, relayState, session.LoginState{})
}

// startLogin builds a new AuthnRequest and the login cookie that binds it
// to this browser. st carries the bounce marker and the kept RelayState of
// a bounce.
func (s *Service) startLogin(ctx context.Context, acct *samlflex.Account, v *samlflex.Verifier, relayState string, st session.LoginState) (*Login, error) {
	set, err := s.keySet(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	opts := samlflex.AuthnRequestOptions{IdPSSOURL: acct.IdPSSOURL, URLs: v.URLs(), RelayState: relayState, Now: now}
	if acct.SignAuthnRequests {
		opts.Signer = set.Current.Signer
	}
	req, err := samlflex.NewAuthnRequest(opts)
	if err != nil {
		return nil, err
	}
	if len(st.Relay) > session.MaxLoginRelay {
		st.Relay = ""
	}
	st.RequestID, st.AccountSID, st.Expires = req.ID, acct.AccountSID, now.Add(s.loginTTL).Unix()
	st.Epoch = s.assertions.ReplayEpoch()
	value, err := s.loginKeys.Seal(set, st)
	if err != nil {
		return nil, samlflex.Errorf(samlflex.CodeInternal, "sealing login cookie: %v", err)
	}
	return &Login{AccountSID: acct.AccountSID, RedirectURL: req.RedirectURL, Cookie: value, CookieTTL: s.loginTTL}, nil
}

// openLogin returns the state of the browser's login cookie, or the zero
// state when there is none or it is not valid: a bad cookie is treated as
// none, the response must then be unsolicited, and the verifier decides.
// Only a key outage is an error (keys_unavailable).
func (s *Service) openLogin(ctx context.Context, in Input) (session.LoginState, error) {
	if in.LoginCookie == "" {
		return session.LoginState{}, nil
	}
	set, err := s.keySet(ctx)
	if err != nil {
		return session.LoginState{}, err
	}
	st, err := s.loginKeys.Open(s.keyResolver(ctx, set), in.LoginCookie, in.AccountSID, s.now())
	if err != nil {
		s.logger.WarnContext(ctx, "login cookie ignored", "request_id", in.LogID, "reason", err.Error())
		return session.LoginState{}, nil
	}
	return st, nil
}

// keyResolver finds a key of the set by kid, refreshing the set through
// the key source when it is a KeyRefresher.
func (s *Service) keyResolver(ctx context.Context, set *keys.Set) func(string) *keys.Pair {
	return func(kid string) *keys.Pair {
		if p := set.ByKid(kid); p != nil {
			return p
		}
		if r, ok := s.keys.(KeyRefresher); ok && kid != "" {
			if p, err := r.KeyForKid(ctx, kid); err == nil {
				return p
			}
		}
		return nil
	}
}
