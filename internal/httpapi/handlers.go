package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/samlflex/samlflex/internal/acs"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// formOverhead is room for RelayState, field names and separators beyond
// the URL-encoded SAMLResponse.
const formOverhead = 16 << 10

// BodyLimit caps the whole form body for a SAMLResponse cap of max bytes.
// The cap applies to the decoded form value (what the README promises);
// URL-encoding can triple it at worst (every character as %XX; base64's
// '+', '/' and '=' are the ones a browser encodes), so a response at the
// cap always fits and a body beyond this is refused before it is read.
func BodyLimit(maxResponse int) int64 { return 3*int64(maxResponse) + formOverhead }

func (s *Server) handleACS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid := r.PathValue("sid")
	acct, verifier, err := s.accounts.get(ctx, sid)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, BodyLimit(acct.MaxResponse()))
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderError(w, r, samlflex.Errorf(samlflex.CodeResponseTooLarge, "form body over %d bytes", tooBig.Limit))
			return
		}
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeBadRequest, "form: %v", err))
		return
	}
	resp := r.PostForm.Get("SAMLResponse")
	if resp == "" {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeBadRequest, "no SAMLResponse form field"))
		return
	}
	if len(resp) > acct.MaxResponse() {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeResponseTooLarge, "SAMLResponse of %d bytes, cap %d (max_response_bytes)", len(resp), acct.MaxResponse()))
		return
	}
	state, err := s.readLogin(ctx, r, sid)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	relay := r.PostForm.Get("RelayState")
	if relay == "" {
		// The answer to a bounce: the IdP was not given the RelayState of
		// the unsolicited response, the cookie kept it (allowlisted).
		relay = state.Relay
	}
	// Validation is the expensive part: it runs under the concurrency
	// limit; reading the body above does not, so a slow client holds a
	// connection but never a validation slot.
	release, err := s.limit.acquire(ctx)
	if err != nil {
		w.Header().Set("Retry-After", retryAfter)
		s.renderError(w, r, err)
		return
	}
	res, err := s.acs.Handle(ctx, acs.Input{Account: acct, Verifier: verifier, SAMLResponse: []byte(resp),
		RelayState: relay, RequestID: state.RequestID, LogID: requestID(r), Bounced: state.recentlyBounced(s.cfg.Now())})
	release()
	if err != nil {
		// Whatever happened, this login attempt is over.
		clearLoginCookies(w, r, sid)
		s.renderError(w, r, err)
		return
	}
	if res.Bounce {
		s.startLogin(w, r, acct, verifier, "", loginState{Bounced: s.cfg.Now().Unix(), Relay: res.BounceRelayState})
		return
	}
	clearLoginCookies(w, r, sid)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Location", res.Redirect.String())
	w.WriteHeader(http.StatusSeeOther)
}

// readLogin returns the state of the browser's login cookie, or the zero
// state when there is none or it is not valid: a bad cookie is treated as
// none, the response must then be unsolicited, and the verifier decides.
func (s *Server) readLogin(ctx context.Context, r *http.Request, sid string) (loginState, error) {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" {
		if c, err = r.Cookie(legacyLoginCookie); err != nil || c.Value == "" {
			return loginState{}, nil
		}
	}
	set, err := s.cfg.Keys.Keys(ctx)
	if err != nil {
		return loginState{}, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err)
	}
	st, err := openLogin(s.keyResolver(ctx, set), c.Value, sid, s.cfg.Now())
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "login cookie ignored", "request_id", requestID(r), "cookie", c.Name, "reason", err.Error())
		return loginState{}, nil
	}
	return st, nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	acct, verifier, err := s.accounts.get(r.Context(), r.PathValue("sid"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.startLogin(w, r, acct, verifier, r.URL.Query().Get("RelayState"), loginState{})
}

// startLogin sends the browser to the IdP with a new AuthnRequest and sets
// the login cookie that binds it to this browser. relayState goes to the
// IdP (the login link's, checked again at the ACS); st carries the bounce
// marker and the kept RelayState of a bounce.
func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, acct *samlflex.Account, verifier *samlflex.Verifier, relayState string, st loginState) {
	ctx := r.Context()
	set, err := s.cfg.Keys.Keys(ctx)
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err))
		return
	}
	now := s.cfg.Now()
	opts := samlflex.AuthnRequestOptions{IdPSSOURL: acct.IdPSSOURL, URLs: verifier.URLs(), RelayState: relayState, Now: now}
	if acct.SignAuthnRequests {
		opts.Signer = set.Current.Signer
	}
	req, err := samlflex.NewAuthnRequest(opts)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if len(st.Relay) > maxCookieRelay {
		st.Relay = ""
	}
	st.RequestID, st.AccountSID, st.Expires = req.ID, acct.AccountSID, now.Add(s.cfg.LoginTTL).Unix()
	value, err := sealLogin(set, st)
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeInternal, "sealing login cookie: %v", err))
		return
	}
	clearLegacyCookie(w, r, acct.AccountSID)
	setLoginCookie(w, value, s.cfg.LoginTTL)
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther // the bounce: the browser must GET the IdP
	}
	http.Redirect(w, r, req.RedirectURL, status)
}

func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct, verifier, err := s.accounts.get(ctx, r.PathValue("sid"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	set, err := s.cfg.Keys.Keys(ctx)
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err))
		return
	}
	var certs = set.Published()
	opts := samlflex.MetadataOptions{URLs: verifier.URLs(), AuthnRequestsSigned: acct.SignAuthnRequests, CacheDuration: time.Hour}
	validUntil := time.Time{}
	for _, p := range certs {
		opts.Certificates = append(opts.Certificates, p.Certificate)
		if validUntil.IsZero() || p.Certificate.NotAfter.Before(validUntil) {
			validUntil = p.Certificate.NotAfter
		}
	}
	opts.ValidUntil = validUntil
	body, err := samlflex.Metadata(opts)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.serveCacheable(w, r, "application/samlmetadata+xml", body, "public, max-age=3600")
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.cfg.Keys.Keys(r.Context())
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err))
		return
	}
	body, err := session.JWKS(set)
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeInternal, "jwks: %v", err))
		return
	}
	s.serveCacheable(w, r, "application/json", body, "public, max-age=300")
}

// serveCacheable writes body with a strong ETag and answers a matching
// If-None-Match with 304.
func (s *Server) serveCacheable(w http.ResponseWriter, r *http.Request, contentType string, body []byte, cacheControl string) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	if match := r.Header.Get("If-None-Match"); match != "" && bytes.Contains([]byte(match), []byte(etag)) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(body)
}

// kidRefresher is what smkeys offers: a lookup by kid that refreshes the
// cached key set once (rate-limited) when the kid is unknown.
type kidRefresher interface {
	KeyForKid(ctx context.Context, kid string) (*keys.Pair, error)
}

// keyResolver finds a key of the set by kid, refreshing the set through
// the key source when it can.
func (s *Server) keyResolver(ctx context.Context, set *keys.Set) func(string) *keys.Pair {
	return func(kid string) *keys.Pair {
		if p := set.ByKid(kid); p != nil {
			return p
		}
		if r, ok := s.cfg.Keys.(kidRefresher); ok && kid != "" {
			if p, err := r.KeyForKid(ctx, kid); err == nil {
				return p
			}
		}
		return nil
	}
}
