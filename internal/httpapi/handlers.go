package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/samlflex/samlflex/internal/acs"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// formOverhead is room for RelayState, field names and separators beyond
// the URL-encoded SAMLResponse.
const formOverhead = 16 << 10

// BodyLimit caps the whole form body for a SAMLResponse cap of max bytes.
// The cap applies to the decoded form value (what docs/security.md promises);
// URL-encoding can triple it at worst (every character as %XX; base64's
// '+', '/' and '=' are the ones a browser encodes), so a response at the
// cap always fits and a body beyond this is refused before it is read.
func BodyLimit(maxResponse int) int64 { return 3*int64(maxResponse) + formOverhead }

func (s *Server) handleACS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid := r.PathValue("sid")
	// The account's cap sizes the body limit, so it is read before the
	// body (through the ACS service's cache).
	prepared, err := s.acs.Prepare(ctx, sid)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	acct := prepared.Account()
	// parseACSForm is r.ParseForm and r.PostForm.Get, cheaper (issue 12).
	resp, relayState, err := parseACSForm(w, r, BodyLimit(acct.MaxResponse()))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderError(w, r, samlflex.Errorf(samlflex.CodeResponseTooLarge, "form body over %d bytes", tooBig.Limit))
			return
		}
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeBadRequest, "form: %v", err))
		return
	}
	if len(resp) == 0 {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeBadRequest, "no SAMLResponse form field"))
		return
	}
	if len(resp) > acct.MaxResponse() {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeResponseTooLarge, "SAMLResponse of %d bytes, cap %d (max_response_bytes)", len(resp), acct.MaxResponse()))
		return
	}
	// Validation is the expensive part: it runs under the concurrency
	// limit (acs calls s.limit.acquire through Config.Admit); reading the
	// body above does not, so a slow client holds a connection but never a
	// validation slot.
	res, err := s.acs.Handle(ctx, acs.Input{AccountSID: sid, SAMLResponse: resp,
		RelayState: relayState, LoginCookie: loginCookieValue(r), LogID: requestID(r), Account: prepared})
	if samlflex.CodeOf(err) == samlflex.CodeServerBusy {
		// The limit refused it before anything was checked: the login
		// attempt may go on once the burst is over.
		w.Header().Set("Retry-After", retryAfter)
		s.renderError(w, r, err)
		return
	}
	if err != nil {
		// Whatever happened, this login attempt is over.
		clearLoginCookies(w, r, sid)
		s.renderError(w, r, err)
		return
	}
	if res.Bounce {
		sendToIdP(w, r, res.Login)
		return
	}
	clearLoginCookies(w, r, sid)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Location", res.Redirect.String())
	w.WriteHeader(http.StatusSeeOther)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	login, err := s.acs.StartLogin(r.Context(), r.PathValue("sid"), r.URL.Query().Get("RelayState"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	sendToIdP(w, r, login)
}

// sendToIdP sends the browser to the IdP with a started login and sets the
// login cookie that binds it to this browser.
func sendToIdP(w http.ResponseWriter, r *http.Request, login *acs.Login) {
	clearLegacyCookie(w, r, login.AccountSID)
	setLoginCookie(w, login.Cookie, login.CookieTTL)
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther // the bounce: the browser must GET the IdP
	}
	http.Redirect(w, r, login.RedirectURL, status)
}

func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct, urls, err := s.acs.Account(ctx, r.PathValue("sid"))
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
	opts := samlflex.MetadataOptions{URLs: urls, AuthnRequestsSigned: acct.SignAuthnRequests, CacheDuration: time.Hour}
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
	ctype, disposition := metadataRepresentation(r, acct.AccountSID)
	w.Header().Set("Vary", "Accept")
	if disposition != "" {
		w.Header().Set("Content-Disposition", disposition)
	}
	s.serveCacheable(w, r, ctype, body, "public, max-age=3600")
}

// metadataRepresentation picks how the SP metadata is sent. SAML tools
// (Salesforce, an IdP's metadata refresh) get the registered type,
// application/samlmetadata+xml. A browser, whose navigation asks for
// text/html, would download that type, so an admin who opens the link
// gets XML the browser shows instead; ?download=1 asks for the file, as
// samlflex-<sid>-metadata.xml.
func metadataRepresentation(r *http.Request, sid string) (contentType, disposition string) {
	const samlType = "application/samlmetadata+xml"
	if r.URL.Query().Get("download") == "1" {
		return samlType, `attachment; filename="samlflex-` + sid + `-metadata.xml"`
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		return "application/xml; charset=utf-8", ""
	}
	return samlType, ""
}

// handleACSSlash answers a POST to the ACS URL with a trailing slash. The
// IdP would also have put that URL in the response's Destination, which
// then never matches: the page says which setting to fix instead of "not
// found".
func (s *Server) handleACSSlash(w http.ResponseWriter, r *http.Request) {
	err := samlflex.Errorf(samlflex.CodeDestinationMismatch, "ACS posted at %s: trailing slash", acs.Clip(r.URL.Path))
	if _, urls, aerr := s.acs.Account(r.Context(), r.PathValue("sid")); aerr == nil {
		// The page's table shows the two URLs side by side.
		err.Trace = &samlflex.Trace{Checks: []samlflex.Check{{
			Name: samlflex.CheckDestination, Code: samlflex.CodeDestinationMismatch,
			Setting:  "Salesforce connected app: ACS URL (exactly this account's ACS URL, no slash at the end)",
			Expected: urls.ACS, Received: urls.ACS + "/ (the URL this response was posted to)",
		}}}
	}
	s.renderError(w, r, err)
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
	// The ETag names the representation: the same body under another
	// Content-Type (the metadata's) is another one.
	sum := sha256.Sum256(append([]byte(contentType+"\n"), body...))
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
