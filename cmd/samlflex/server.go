package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Server timeouts. ReadHeaderTimeout is the one that matters most: without
// it a client that sends headers one byte a minute holds a connection
// forever (Slowloris). The others bound a request from end to end; the
// ACS body is at most a few hundred kilobytes, so 30 seconds is generous.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout is how long in-flight requests get after Ctrl-C.
	shutdownTimeout = 10 * time.Second
	// readGrace is how long, after Ctrl-C, a connection may still take to
	// send the rest of its request. Past it, reads fail: a client that
	// sends a byte a second (Slowloris) would otherwise hold the shutdown
	// for the whole ReadTimeout and make it fail. A validation already
	// running is not cut: it reads nothing more.
	readGrace = time.Second
)

// newLogger builds the JSON logger of the servers, on stdout, at the level
// of SAMLFLEX_LOG_LEVEL (the same variable the Lambda functions read).
func newLogger(w io.Writer, getenv func(string) string) (*slog.Logger, error) {
	return newFormatLogger(w, getenv, "json")
}

// logFormatUsage is the help of serve's and dev's --log-format.
const logFormatUsage = "`FORMAT` of the logs: text (key=value lines for a person), json (for a log\ncollector) or auto: text on a terminal, json otherwise"

// sessionTokenAlgUsage is the help of serve's and dev's --session-token-alg.
const sessionTokenAlgUsage = "`ALG` that signs session tokens: ES256 (the key set's P-256 token key, a\nfraction of the cost) or RS256 (the SP's RSA key, for a relying party that\nneeds it) (default $SAMLFLEX_SESSION_TOKEN_ALG, else ES256)"

// sessionTokenAlgFlag adds --session-token-alg to fs; its default comes
// from the variable the acs function reads.
func sessionTokenAlgFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("session-token-alg", getenv(config.EnvSessionTokenAlg), sessionTokenAlgUsage)
}

// parseSessionTokenAlg reads --session-token-alg for a usage error.
func parseSessionTokenAlg(v string) (session.Alg, error) {
	alg, err := session.ParseAlg(v)
	if err != nil {
		return "", fmt.Errorf("--session-token-alg %q: use ES256 or RS256", v)
	}
	return alg, nil
}

// newFormatLogger is newLogger with a format: "text", "json", or "auto"
// (text when w is a terminal, where a person reads it; JSON when it is a
// pipe or file, where a collector does).
func newFormatLogger(w io.Writer, getenv func(string) string, format string) (*slog.Logger, error) {
	level, err := config.ParseLogLevel(getenv(config.EnvLogLevel))
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "auto":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text, json or auto", format)
}

// isTerminal reports a character device (a terminal), without a
// dependency: pipes and files are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serveUntilDone serves on ln until ctx is done (Ctrl-C, SIGTERM, or a
// test's cancel), then stops accepting and gives in-flight requests
// shutdownTimeout to finish; connections still sending their request
// after readGrace are cut (see readGrace).
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	conns := trackConns(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting_down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	grace := time.AfterFunc(readGrace, conns.expireReads)
	defer grace.Stop()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// isLoopbackAddr reports whether a listen address names this computer
// only.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return isLoopbackHost(host)
}

// isLoopbackHost: localhost, 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool { return samlflex.IsLoopbackHost(host) }

// checkBaseURL refuses a public base URL that cannot work, in the words
// of samlflex.RequireSecureBaseURL (which says why plain http is refused
// off loopback).
func checkBaseURL(raw string) error {
	if _, err := samlflex.RequireSecureBaseURL(raw); err != nil {
		return errors.New(samlflex.PublicOf(err))
	}
	return nil
}

// baseURLFor is the http:// base URL of a bound loopback listener.
func baseURLFor(ln net.Listener) string {
	return "http://" + ln.Addr().String()
}

// connSet knows the server's connections that are in a request or still
// sending its header, so
// that a shutdown can make their pending reads fail.
type connSet struct {
	mu     sync.Mutex
	active map[net.Conn]struct{}
}

// trackConns hooks srv.ConnState (which it must not already use).
func trackConns(srv *http.Server) *connSet {
	c := &connSet{active: map[net.Conn]struct{}{}}
	srv.ConnState = func(conn net.Conn, st http.ConnState) {
		c.mu.Lock()
		defer c.mu.Unlock()
		// New: headers not read yet (Shutdown waits 5 s before it treats
		// those as idle); Active: in a request.
		if st == http.StateNew || st == http.StateActive {
			c.active[conn] = struct{}{}
		} else {
			delete(c.active, conn)
		}
	}
	return c
}

// expireReads makes every pending and future read of an active connection
// fail now: a handler blocked on a slow body gets an error and answers,
// a half-sent header ends, and Shutdown can close the connection.
func (c *connSet) expireReads() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for conn := range c.active {
		_ = conn.SetReadDeadline(time.Now())
	}
}
