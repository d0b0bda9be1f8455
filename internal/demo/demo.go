package demo

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// FriendlyName is the demo account's friendly name: it says where the
// account comes from wherever an admin sees it (`samlflex account list`).
const FriendlyName = "samlflex demo IdP (local test only)"

// Config configures New.
type Config struct {
	// BaseURL is the dev server's base URL (http://127.0.0.1:PORT): the
	// demo and samlflex share it.
	BaseURL string
	// AccountSID is the demo account.
	AccountSID string
	IdPKey     *IdPKey
	// Users may be nil (DefaultUsers).
	Users []User
	// HTTPClient fetches the JWKS for whoami (nil: 5-second timeout).
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Account returns the demo account's settings, as an admin would save
// them for Salesforce: the demo IdP's issuer, SSO URL and certificate, and
// the demo landing page as the start URL.
func Account(baseURL, accountSID string, key *IdPKey) samlflex.Account {
	base := strings.TrimRight(baseURL, "/")
	return samlflex.Account{
		AccountSID:      accountSID,
		FriendlyName:    FriendlyName,
		IdPCertificates: []string{key.CertificatePEM()},
		IdPIssuer:       base + IdPPath,
		IdPSSOURL:       base + IdPSSOPath,
		StartURL:        base + DesktopPath,
		// The demo IdP keeps no session, so a bounce would show its
		// login form again; the demo is loopback-only and its users are
		// fake, so direct acceptance (unsafe in production: login CSRF)
		// keeps its one-click IdP-initiated login.
		IdPInitiated: samlflex.IdPInitiatedAccept,
	}
}

// New returns the handler of everything under /demo/: the start page, the
// demo IdP and the demo landing page.
func New(cfg Config) (http.Handler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	idp, err := NewIdP(IdPConfig{
		BaseURL: base, AccountSID: cfg.AccountSID, Key: cfg.IdPKey,
		Users: cfg.Users, Now: cfg.Now, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	verifier, err := NewTokenVerifier(TokenVerifierConfig{
		JWKSURL:    base + samlflex.PathJWKS,
		Issuer:     base,
		Audience:   cfg.AccountSID,
		HTTPClient: cfg.HTTPClient,
		Now:        cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	desk, err := NewDesktop(DesktopConfig{
		WhoamiURL: base + WhoamiPath,
		LoginURL:  idp.SP().Login,
		Verifier:  verifier,
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	idp.Register(mux)
	desk.Register(mux)
	index, err := newIndex(idp, base)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET "+IndexPath+"{$}", index)
	mux.HandleFunc(IndexPath, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "There is no demo page at this address: start at "+IndexPath, http.StatusNotFound)
	})
	return mux, nil
}

// index is the demo's start page: the login link and the demo users.
type index struct {
	idp   *IdP
	base  string
	pages *pages
}

func newIndex(idp *IdP, base string) (*index, error) {
	pg, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("demo: templates: %w", err)
	}
	if idp == nil {
		return nil, errors.New("demo: index needs the IdP")
	}
	return &index{idp: idp, base: base, pages: pg}, nil
}

func (x *index) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	sp := x.idp.SP()
	setPageHeaders(w.Header(), "", "")
	render(w, http.StatusOK, x.pages.index, struct {
		Title, Password, LoginURL, InitiatedURL, DesktopURL, MetadataURL string
		AccountSID, EntityID, ACSURL, IdPIssuer, IdPSSOURL               string
		Users                                                            []User
	}{
		Title: "samlflex demo", Password: Password, LoginURL: sp.Login,
		InitiatedURL: x.base + IdPInitiatedPath, DesktopURL: x.base + DesktopPath, MetadataURL: sp.Metadata,
		AccountSID: x.idp.cfg.AccountSID, EntityID: sp.EntityID, ACSURL: sp.ACS,
		IdPIssuer: x.idp.Issuer(), IdPSSOURL: x.idp.SSOURL(), Users: x.idp.Users(),
	}, x.idp.cfg.Logger)
}
