package demo

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Paths of the demo, relative to the base URL.
const (
	IndexPath        = "/demo/"
	IdPPath          = "/demo/idp"
	IdPSSOPath       = "/demo/idp/sso"
	IdPLoginPath     = "/demo/idp/login"
	IdPInitiatedPath = "/demo/idp/initiated"
	DesktopPath      = "/demo/desktop"
	WhoamiPath       = "/demo/api/whoami"
)

const (
	// maxRelayState is the SAML bindings limit (3.4.3, 3.5.3).
	maxRelayState = 80
	maxFormBytes  = 64 << 10
)

// IdPConfig configures NewIdP.
type IdPConfig struct {
	// BaseURL is the base URL of the server the IdP is mounted on; its
	// issuer is BaseURL+"/demo/idp" and its SSO URL BaseURL+"/demo/idp/sso".
	// It is also samlflex's base URL, from which the SP's Entity Id and
	// ACS URL derive.
	BaseURL string
	// AccountSID is the only account the IdP signs responses for.
	AccountSID string
	Key        *IdPKey
	// Users may be nil (DefaultUsers).
	Users []User
	// Now is the clock (nil: time.Now); Rand makes IDs (nil: crypto/rand).
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// IdP is the demo identity provider. It is safe for concurrent use.
type IdP struct {
	cfg    IdPConfig
	sp     samlflex.URLs
	issuer string
	sso    string
	pages  *pages
}

// NewIdP checks the configuration and derives the SP's identifiers.
func NewIdP(cfg IdPConfig) (*IdP, error) {
	if cfg.Key == nil {
		return nil, errors.New("demo: IdP needs a key")
	}
	sp, err := samlflex.URLsFor(cfg.BaseURL, cfg.AccountSID)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if cfg.Users == nil {
		cfg.Users = DefaultUsers()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pg, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("demo: templates: %w", err)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	return &IdP{cfg: cfg, sp: sp, issuer: base + IdPPath, sso: base + IdPSSOPath, pages: pg}, nil
}

// Issuer is the IdP's entity ID, what the account's IdP issuer must be.
func (p *IdP) Issuer() string { return p.issuer }

// SSOURL is where the login link sends AuthnRequests.
func (p *IdP) SSOURL() string { return p.sso }

// SP returns the identifiers of the one account the IdP serves.
func (p *IdP) SP() samlflex.URLs { return p.sp }

// Users returns the demo users.
func (p *IdP) Users() []User { return append([]User(nil), p.cfg.Users...) }

// SignedResponse builds the signed Response XML for user, answering the
// request inResponseTo ("" for an IdP-initiated login). It is what the
// login form posts, base64-encoded, to the ACS.
func (p *IdP) SignedResponse(user User, inResponseTo string) ([]byte, error) {
	return buildSignedResponse(responseParams{
		Issuer: p.issuer, Destination: p.sp.ACS, Audience: p.sp.EntityID,
		InResponseTo: inResponseTo, User: user, Now: p.cfg.Now(), Key: p.cfg.Key, Rand: p.cfg.Rand,
	})
}

// Register mounts the IdP's routes.
func (p *IdP) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+IdPSSOPath, p.handleSSO)
	mux.HandleFunc("POST "+IdPLoginPath, p.handleLogin)
	mux.HandleFunc("GET "+IdPInitiatedPath, p.handleInitiated)
}

// checkRequest keeps the IdP honest: it answers only the one service
// provider it was set up for. A request naming another SP or another ACS
// URL is refused rather than answered at our ACS, so that the demo never
// teaches that an IdP may sign for whoever asks.
func (p *IdP) checkRequest(r *AuthnRequest) error {
	switch {
	case r.Issuer != p.sp.EntityID:
		return badRequest("this demo IdP only signs for the demo account; the login request came from another service provider", fmt.Errorf("issuer %q, want %q", r.Issuer, p.sp.EntityID))
	case r.ACSURL != "" && r.ACSURL != p.sp.ACS:
		return badRequest("the login request asks for the response to go to another ACS URL than the demo account's", fmt.Errorf("ACS %q, want %q", r.ACSURL, p.sp.ACS))
	case r.Destination != "" && r.Destination != p.sso:
		return badRequest("the login request was meant for another identity provider", fmt.Errorf("destination %q, want %q", r.Destination, p.sso))
	}
	return nil
}

type loginData struct {
	Title, SPEntityID, Password, Error, Action, SAMLRequest, RelayState, Username string
	Users                                                                         []User
}

func (p *IdP) handleSSO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := ParseRedirectRequest(q.Get("SAMLRequest"))
	if err == nil {
		err = p.checkRequest(req)
	}
	if err == nil && len(q.Get("RelayState")) > maxRelayState {
		err = badRequest("the RelayState is longer than the 80 bytes SAML allows", nil)
	}
	if err != nil {
		p.renderError(w, r, err)
		return
	}
	p.renderLogin(w, http.StatusOK, loginData{SAMLRequest: q.Get("SAMLRequest"), RelayState: q.Get("RelayState")})
}

func (p *IdP) renderLogin(w http.ResponseWriter, status int, d loginData) {
	d.Title = "Sign in · TEST IdP — local only"
	d.SPEntityID = p.sp.EntityID
	d.Password = Password
	d.Action = IdPLoginPath
	d.Users = p.cfg.Users
	setPageHeaders(w.Header(), "", "form-action 'self'")
	p.render(w, status, p.pages.login, d)
}

func (p *IdP) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, badRequest("the login form could not be read", err))
		return
	}
	f := r.PostForm
	// The request is parsed and checked again: the hidden field came
	// back from the browser and is no more trusted than the query was.
	req, err := ParseRedirectRequest(f.Get("SAMLRequest"))
	if err == nil {
		err = p.checkRequest(req)
	}
	relay := f.Get("RelayState")
	if err == nil && len(relay) > maxRelayState {
		err = badRequest("the RelayState is longer than the 80 bytes SAML allows", nil)
	}
	if err != nil {
		p.renderError(w, r, err)
		return
	}
	user, ok := authenticate(p.cfg.Users, f.Get("username"), f.Get("password"))
	if !ok {
		p.cfg.Logger.InfoContext(r.Context(), "demo_idp_login_failed")
		p.renderLogin(w, http.StatusUnauthorized, loginData{
			Error:       "Wrong username or password. The demo users are listed below; the password is \"" + Password + "\".",
			SAMLRequest: f.Get("SAMLRequest"), RelayState: relay, Username: f.Get("username"),
		})
		return
	}
	p.postResponse(w, r, user, req.ID, relay)
}

// handleInitiated starts an IdP-initiated login, as a click in Salesforce's
// App Launcher does: no AuthnRequest, no InResponseTo. The user counts as
// already signed in to the IdP, as in Salesforce; without ?user= it shows a
// chooser.
func (p *IdP) handleInitiated(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("user")
	relay := q.Get("RelayState")
	if len(relay) > maxRelayState {
		p.renderError(w, r, badRequest("the RelayState is longer than the 80 bytes SAML allows", nil))
		return
	}
	user, ok := findUser(p.cfg.Users, name)
	if !ok {
		status, msg := http.StatusOK, ""
		if name != "" {
			status, msg = http.StatusBadRequest, "There is no demo user with that name. Pick one below."
		}
		setPageHeaders(w.Header(), "", "")
		p.render(w, status, p.pages.choose, struct {
			Title, Error, Path string
			Users              []User
		}{"IdP-initiated login · TEST IdP — local only", msg, IdPInitiatedPath, p.cfg.Users})
		return
	}
	p.postResponse(w, r, user, "", relay)
}

// postResponse signs a response for user and sends the auto-posting form.
func (p *IdP) postResponse(w http.ResponseWriter, r *http.Request, user User, inResponseTo, relay string) {
	xml, err := p.SignedResponse(user, inResponseTo)
	if err != nil {
		p.cfg.Logger.ErrorContext(r.Context(), "demo_idp_sign_failed", "err", err)
		p.renderError(w, r, &RequestError{Reason: "the demo IdP could not sign the response; see the log", Err: err})
		return
	}
	p.cfg.Logger.InfoContext(r.Context(), "demo_idp_response_sent",
		"unsolicited", inResponseTo == "", "in_response_to", inResponseTo, "roles", user.Roles)
	setPageHeaders(w.Header(), autopostJS, "form-action 'self' "+origin(p.sp.ACS))
	p.render(w, http.StatusOK, p.pages.autopost, struct {
		Title, Username, ACS, SAMLResponse, RelayState string
	}{"Signing in · TEST IdP — local only", user.Username, p.sp.ACS, base64.StdEncoding.EncodeToString(xml), relay})
}

func (p *IdP) renderError(w http.ResponseWriter, r *http.Request, err error) {
	msg := "the request could not be handled"
	var re *RequestError
	if errors.As(err, &re) {
		msg = re.Reason
	}
	p.cfg.Logger.WarnContext(r.Context(), "demo_idp_refused", "path", r.URL.Path, "err", err.Error())
	setPageHeaders(w.Header(), "", "")
	p.render(w, http.StatusBadRequest, p.pages.errPage, struct{ Title, Message, Index string }{
		"Refused · TEST IdP — local only", strings.ToUpper(msg[:1]) + msg[1:] + ".", IndexPath,
	})
}

// render executes into a buffer first, so that a template error becomes a
// 500 rather than half a page.
func (p *IdP) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	render(w, status, t, data, p.cfg.Logger)
}

func render(w http.ResponseWriter, status int, t *template.Template, data any, logger *slog.Logger) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		logger.Error("demo_template_failed", "template", t.Name(), "err", err)
		http.Error(w, "demo page failed; see the log", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
