package moto

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Region is the region tests give their clients; moto accepts any, and one
// constant keeps a test's resources in one place.
const Region = "us-east-1"

// startTimeout bounds the wait for moto_server to answer. It normally
// answers within two seconds; a loaded CI machine may take longer.
const startTimeout = 30 * time.Second

// Server is a running moto_server on 127.0.0.1.
type Server struct {
	url      string
	cmd      *exec.Cmd
	exited   chan error // receives cmd.Wait's result once
	accounts atomic.Int64
	// one is held for each request of every HTTPClient; see HTTPClient.
	one sync.Mutex
	// transport is the server's own connection pool. Not
	// http.DefaultTransport: every httptest.Server.Close in the process
	// closes that one's idle connections, and a test's clients should not
	// share connections with unrelated tests.
	transport *http.Transport
}

// URL is the endpoint to give an SDK client (BaseEndpoint).
func (s *Server) URL() string { return s.url }

// HTTPClient returns an HTTP client whose requests carry a new AWS account
// ID, so that everything the client creates is invisible to other clients
// of the same server (moto keeps one backend per account and region).
//
// The clients of one server send one request at a time. moto_server
// answers each request on its own thread, and its DynamoDB and Secrets
// Manager backends take no lock, so a conditional write's check and its
// write can interleave with another request (seen: two of fifty concurrent
// conditional PutItems of one key both succeeding). The services apply
// each request atomically, and our code relies on that; serialising here
// restores it, while concurrent callers still race in any order.
func (s *Server) HTTPClient() *http.Client {
	// 12 digits, as AWS account IDs are; the prefix keeps clear of moto's
	// default account 123456789012.
	id := fmt.Sprintf("9%011d", s.accounts.Add(1))
	return &http.Client{Transport: &accountTransport{id: id, one: &s.one, next: s.transport}}
}

type accountTransport struct {
	id   string
	one  *sync.Mutex
	next http.RoundTripper
}

// RoundTrip holds the lock until the answer's headers arrive: moto has
// applied the request by then, as it computes the whole answer first.
func (a *accountTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("x-moto-account-id", a.id)
	a.one.Lock()
	defer a.one.Unlock()
	return a.next.RoundTrip(r)
}

// errNotInstalled is returned by start when moto_server is not on PATH.
var errNotInstalled = errors.New("moto_server is not installed")

// start runs moto_server on a free port and waits until it accepts
// connections.
func start() (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errNotInstalled
	}
	// The port is free now; moto binds it a moment later. Another process
	// taking it in between makes moto exit, which the wait below reports.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &Server{url: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: exited,
		transport: http.DefaultTransport.(*http.Transport).Clone()}
	deadline := time.Now().Add(startTimeout)
	for {
		// moto answers its own API once the server is up; a plain TCP
		// accept could come before the WSGI app is ready.
		resp, err := http.Get(s.url + "/moto-api/data.json")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("moto_server exited before it was ready: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("moto_server did not answer on %s within %s", s.url, startTimeout)
		}
	}
}

// stop kills moto_server and waits for it to exit, so that no process
// outlives the test binary.
func (s *Server) stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.transport.CloseIdleConnections()
}

// unavailable skips t, or fails it under CI=true, because moto_server
// could not be started.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errNotInstalled) {
		if os.Getenv("CI") == "true" {
			t.Fatal("moto_server is not installed (pip install \"moto[server]\"); CI=true requires it")
		}
		t.Skip("moto_server is not installed, so this emulator test is skipped (pip install \"moto[server]\"; scripts/test.sh needs it)")
	}
	t.Fatal(err)
}

// Start runs a moto_server for t alone, stopped when t ends. Prefer Shared
// when more than one test of a package needs moto.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(s.stop)
	return s
}

// Shared is one moto_server for all tests of a package. Declare it at
// package level, call Get in each test that needs moto, and let TestMain
// stop it:
//
//	var motoServer moto.Shared
//
//	func TestMain(m *testing.M) { os.Exit(motoServer.Run(m)) }
//
// The server starts on the first Get, so a run of tests that need no moto
// (go test -run, or -short) pays nothing for it.
type Shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// Get returns the running server, starting it on first use. If it cannot
// be started, t is skipped (or fails under CI=true); the error is kept, so
// later tests do not try again.
func (s *Shared) Get(t testing.TB) *Server {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil && s.err == nil {
		s.srv, s.err = start()
	}
	if s.err != nil {
		unavailable(t, s.err)
	}
	return s.srv
}

// Run runs the package's tests, then stops the server; its result is
// TestMain's exit code.
func (s *Shared) Run(m *testing.M) int {
	defer s.Stop()
	return m.Run()
}

// Stop stops the server if Get started it. It is safe to call more than
// once.
func (s *Shared) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.stop()
		s.srv = nil
	}
}
