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

// formOverhead is room for RelayState and field names beyond the
// SAMLResponse cap.
const formOverhead = 4096

func (s *Server) handleACS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid := r.PathValue("sid")
	acct, verifier, err := s.accounts.get(ctx, sid)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	// Cap the body before parsing: the engine's own cap applies to the
	// decoded field, this one stops a huge body from being read at all.
	r.Body = http.MaxBytesReader(w, r.Body, int64(acct.MaxResponse()+formOverhead))
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
	loginID := ""
	if c, err := r.Cookie(loginCookie); err == nil && c.Value != "" {
		set, err := s.cfg.Keys.Keys(ctx)
		if err != nil {
			s.renderError(w, r, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err))
			return
		}
		if loginID, err = openLogin(s.keyResolver(ctx, set), c.Value, sid, s.cfg.Now()); err != nil {
			// A bad cookie is treated as none: the response must then
			// be unsolicited, and the verifier decides.
			s.cfg.Logger.WarnContext(ctx, "login cookie ignored", "request_id", requestID(r), "reason", err.Error())
			loginID = ""
		}
	}
	// Whatever happens, this login attempt is over.
	clearLoginCookie(w, sid)
	res, err := s.acs.Handle(ctx, acs.Input{Account: acct, Verifier: verifier, SAMLResponse: []byte(resp),
		RelayState: r.PostForm.Get("RelayState"), RequestID: loginID, LogID: requestID(r)})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Location", res.Redirect.String())
	w.WriteHeader(http.StatusSeeOther)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid := r.PathValue("sid")
	acct, verifier, err := s.accounts.get(ctx, sid)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	set, err := s.cfg.Keys.Keys(ctx)
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeKeysUnavailable, "loading SP keys: %v", err))
		return
	}
	opts := samlflex.AuthnRequestOptions{IdPSSOURL: acct.IdPSSOURL, URLs: verifier.URLs(),
		RelayState: r.URL.Query().Get("RelayState"), Now: s.cfg.Now()}
	if acct.SignAuthnRequests {
		opts.Signer = set.Current.Signer
	}
	req, err := samlflex.NewAuthnRequest(opts)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	value, err := sealLogin(set, loginState{RequestID: req.ID, AccountSID: sid, Expires: s.cfg.Now().Add(s.cfg.LoginTTL).Unix()})
	if err != nil {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeInternal, "sealing login cookie: %v", err))
		return
	}
	setLoginCookie(w, sid, value, s.cfg.LoginTTL)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, req.RedirectURL, http.StatusFound)
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
