package demo

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// DesktopConfig configures NewDesktop.
type DesktopConfig struct {
	// WhoamiURL is the absolute address the page posts the token to. It is
	// written into the page, so a copy of the page served elsewhere (at a
	// Flex-style start URL) still reaches it; whoami answers cross-origin.
	WhoamiURL string
	// LoginURL, when set, is the page's "Sign in again" link.
	LoginURL string
	Verifier *TokenVerifier
	Logger   *slog.Logger
}

// Desktop serves the demo landing page and its token check.
type Desktop struct {
	cfg   DesktopConfig
	pages *pages
}

// NewDesktop checks the configuration.
func NewDesktop(cfg DesktopConfig) (*Desktop, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("demo: desktop needs a token verifier")
	}
	if origin(cfg.WhoamiURL) == "" {
		return nil, errors.New("demo: desktop needs an absolute whoami URL")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Desktop{cfg: cfg, pages: pg}, nil
}

// Register mounts the page and whoami.
func (d *Desktop) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+DesktopPath, d.handlePage)
	mux.HandleFunc("POST "+WhoamiPath, d.handleWhoami)
	mux.HandleFunc("OPTIONS "+WhoamiPath, d.handlePreflight)
}

func (d *Desktop) handlePage(w http.ResponseWriter, _ *http.Request) {
	setPageHeaders(w.Header(), desktopJS, "connect-src "+origin(d.cfg.WhoamiURL)+"; form-action 'none'")
	render(w, http.StatusOK, d.pages.desktop, struct{ Title, WhoamiURL, LoginURL string }{
		"Demo agent desktop · samlflex", d.cfg.WhoamiURL, d.cfg.LoginURL,
	}, d.cfg.Logger)
}

// whoamiAnswer is the JSON of /demo/api/whoami.
type whoamiAnswer struct {
	Verified bool `json:"verified"`
	*Claims
	Exp       int64     `json:"exp,omitempty"`
	ExpiresAt string    `json:"expires_at,omitempty"`
	Code      TokenCode `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
}

// setCORS lets a copy of the landing page on another origin call whoami.
// Any origin is fine: whoami reads no cookies and only says what the token
// it is handed says.
func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
}

func (d *Desktop) handlePreflight(w http.ResponseWriter, _ *http.Request) {
	setCORS(w.Header())
	w.WriteHeader(http.StatusNoContent)
}

// handleWhoami verifies the token in the form field "token" (or the JSON
// body {"token": ...}) and answers its claims.
func (d *Desktop) handleWhoami(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBytes+1024)
	token, err := readToken(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, whoamiAnswer{Code: TokenMalformed, Message: "Send the token as the form field \"token\"."})
		return
	}
	c, err := d.cfg.Verifier.Verify(r.Context(), token)
	if err != nil {
		te := &TokenError{Code: TokenMalformed, Message: "The token could not be checked."}
		errors.As(err, &te)
		status := http.StatusUnauthorized
		if te.Code == JWKSUnavailable {
			status = http.StatusBadGateway
		}
		// The token itself is never logged: it is a bearer credential.
		d.cfg.Logger.WarnContext(r.Context(), "demo_whoami_refused", "code", string(te.Code), "err", err.Error())
		writeJSON(w, status, whoamiAnswer{Code: te.Code, Message: te.Message})
		return
	}
	writeJSON(w, http.StatusOK, whoamiAnswer{
		Verified: true, Claims: c,
		Exp: c.Expiry.Unix(), ExpiresAt: c.Expiry.Format(time.RFC3339),
	})
}

func readToken(r *http.Request) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var body struct {
			Token string `json:"token"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return "", err
		}
		return body.Token, nil
	}
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	return r.PostForm.Get("token"), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
