package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/samlflex/samlflex/internal/acs"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Config configures New. BaseURL, Store, Keys, Provisioner, Logger, Now,
// AccountCacheTTL, LoginTTL and SessionTokenAlg configure the login use case and mean what
// they mean in acs.Config; the rest is HTTP's.
type Config struct {
	BaseURL string
	Store   acs.Store
	Keys    keys.Source
	Logger  *slog.Logger
	Now     func() time.Time
	// TrustRequestIDHeader uses an incoming X-Request-Id (set by
	// lambdahttp from API Gateway's request id). Off for `serve`, where a
	// client could choose it.
	TrustRequestIDHeader bool
	AccountCacheTTL      time.Duration
	LoginTTL             time.Duration
	SessionTokenAlg      session.Alg
	Provisioner          acs.Provisioner
	// ACSConcurrency bounds the ACS validations in flight (0: no bound,
	// as on Lambda, where an instance serves one request at a time).
	// Beyond it up to ACSQueue requests wait at most ACSQueueWait, then
	// get 503 server_busy. `serve` uses DefaultACSLimits.
	ACSConcurrency int
	ACSQueue       int
	ACSQueueWait   time.Duration
}

// DefaultACSLimits are serve's limits for procs CPUs: two validations per
// CPU keep the CPUs busy while one waits on the store; a queue of 16 per
// slot (at least 64) lets a burst of real logins through, since a valid
// one takes milliseconds; 3 s is a wait a person does not notice.
func DefaultACSLimits(procs int) (concurrency, queue int, wait time.Duration) {
	concurrency = 2 * max(procs, 1)
	return concurrency, max(16*concurrency, 64), 3 * time.Second
}

// Server is the http.Handler.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	acs   *acs.Service
	limit *limiter
}

// New builds the handler. The required fields and the base URL are
// checked by acs.New, which owns them.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	limit := newLimiter(cfg.ACSConcurrency, cfg.ACSQueue, cfg.ACSQueueWait)
	svc, err := acs.New(acs.Config{BaseURL: cfg.BaseURL, Store: cfg.Store, Keys: cfg.Keys, Provisioner: cfg.Provisioner,
		Logger: cfg.Logger, Now: cfg.Now, AccountCacheTTL: cfg.AccountCacheTTL, LoginTTL: cfg.LoginTTL, Admit: limit.acquire,
		SessionTokenAlg: cfg.SessionTokenAlg})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, acs: svc, mux: http.NewServeMux(), limit: limit}
	s.mux.HandleFunc(samlflex.RoutePattern(samlflex.ACSPath), s.only(http.MethodPost, s.handleACS))
	s.mux.HandleFunc(samlflex.RoutePattern(samlflex.ACSPath)+"/{$}", s.only(http.MethodPost, s.handleACSSlash))
	s.mux.HandleFunc(samlflex.RoutePattern(samlflex.LoginPath), s.only(http.MethodGet, s.handleLogin))
	s.mux.HandleFunc(samlflex.RoutePattern(samlflex.MetadataPath), s.only(http.MethodGet, s.handleMetadata))
	s.mux.HandleFunc(samlflex.PathJWKS, s.only(http.MethodGet, s.handleJWKS))
	s.mux.HandleFunc(samlflex.PathHealthz, s.only(http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, samlflex.Errorf(samlflex.CodeNotFound, "no route for %s", r.URL.Path))
	})
	return s, nil
}

// only answers 405 with the error page for other methods (GET also serves
// HEAD).
func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			s.renderError(w, r, samlflex.Errorf(samlflex.CodeMethodNotAllowed, "%s %s", r.Method, r.URL.Path))
			return
		}
		h(w, r)
	}
}

type ctxKey struct{}

func contextWithID(r *http.Request, id string) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, id)
}

// requestID returns the id the middleware put in the request's context.
func requestID(r *http.Request) string {
	if v, ok := r.Context().Value(ctxKey{}).(string); ok {
		return v
	}
	return ""
}

// statusRecorder keeps what the access log needs.
type statusRecorder struct {
	http.ResponseWriter
	status int
	code   string
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
		s.code = s.Header().Get("X-Samlflex-Error")
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// ServeHTTP adds the request id, the access log and panic recovery.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := ""
	if s.cfg.TrustRequestIDHeader {
		id = r.Header.Get("X-Request-Id")
	}
	if id == "" || len(id) > 128 {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	r = r.WithContext(contextWithID(r, id))
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.cfg.Logger.ErrorContext(r.Context(), "panic", "request_id", id, "panic", p)
			if rec.status == 0 {
				s.renderError(rec, r, samlflex.Errorf(samlflex.CodeInternal, "panic"))
			}
		}
		// Path only: the query of a login link may carry a RelayState,
		// and bodies hold SAML responses; neither belongs in a log.
		s.cfg.Logger.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method,
			"path", acs.Clip(r.URL.Path), "status", rec.status, "code", rec.code,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}()
	s.mux.ServeHTTP(rec, r)
}
