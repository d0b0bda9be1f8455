package samlidp

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// Options configure the IdP for one SP.
type Options struct {
	SPEntityID string // Audience, and the Issuer an AuthnRequest must carry
	SPACSURL   string // Destination, Recipient, and where the form posts
	Users      []User
	// Host is where the IdP listens and what its URLs name: "localhost"
	// (the default) or a loopback IP. Anything else is refused, as tests
	// must not listen beyond this machine.
	Host string
	// Issuer is the IdP entity ID; empty means BaseURL, as server.js does.
	// Set it to test an Issuer that looks like Salesforce's
	// (https://example.my.salesforce.com).
	Issuer string
	// IgnoreAuthnRequests answers an AuthnRequest from a signed-in
	// browser with an unsolicited Response, like an IdP that can only do
	// IdP-initiated logins.
	IgnoreAuthnRequests bool
	// ClockOffset moves the IdP's clock in the responses it signs (an IdP
	// whose clock is ahead: positive), whole seconds.
	ClockOffset time.Duration
	// SHA1 signs with RSA-SHA1 (old Salesforce certificates).
	SHA1 bool
	// DenyUser is answered with the status Requester (a Salesforce
	// profile without access to the connected app).
	DenyUser string
}

// IdP is a running test IdP.
type IdP struct {
	BaseURL     string // http://localhost:PORT
	SSOURL      string // BaseURL + "/sso": HTTP-Redirect (GET) and HTTP-POST bindings
	MetadataURL string // BaseURL + "/metadata"
	Issuer      string // the IdP entity ID
	CertPEM     string // the signing certificate, PEM
	Cert        *x509.Certificate

	stderr *lockedBuffer
}

// IdPInitiatedURL is a GET that logs username in and returns the
// auto-posting form of an unsolicited Response (no InResponseTo), like
// Salesforce's IdP-initiated login URL. relayState may be empty.
func (p *IdP) IdPInitiatedURL(username, password, relayState string) string {
	q := url.Values{"username": {username}, "password": {password}}
	if relayState != "" {
		q.Set("RelayState", relayState)
	}
	return p.BaseURL + "/idp-initiated?" + q.Encode()
}

// Stderr is what the IdP has logged so far (one line per request, reasons
// for 4xx pages). Start also logs it when the test fails.
func (p *IdP) Stderr() string { return p.stderr.String() }

// Start runs the IdP until t ends. It fails t (or skips it, see the package
// doc) when the IdP cannot be started; the failure includes its stderr.
func Start(t testing.TB, opts Options) *IdP {
	t.Helper()
	if opts.SPEntityID == "" || opts.SPACSURL == "" {
		t.Fatal("samlidp: Options.SPEntityID and Options.SPACSURL are required")
	}
	host := opts.Host
	if host == "" {
		host = "localhost"
	}
	if !isLoopback(host) {
		t.Fatalf("samlidp: Host %q is not localhost or a loopback IP", host)
	}

	node := requireTool(t, "node")
	dir := idpDir(t)
	ensureDeps(t, dir)

	pair, err := newSigningPair(time.Now())
	if err != nil {
		t.Fatalf("samlidp: %v", err)
	}
	users, err := usersFile(opts.Users)
	if err != nil {
		t.Fatalf("samlidp: users: %v", err)
	}
	tmp := t.TempDir()
	files := map[string][]byte{"key.pem": pair.keyPEM, "cert.pem": pair.certPEM, "users.json": users}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o600); err != nil {
			t.Fatalf("samlidp: %v", err)
		}
	}

	args := []string{"server.js",
		"--port", "0",
		"--host", host,
		"--sp-entity-id", opts.SPEntityID,
		"--sp-acs-url", opts.SPACSURL,
		"--key", filepath.Join(tmp, "key.pem"),
		"--cert", filepath.Join(tmp, "cert.pem"),
		"--users", filepath.Join(tmp, "users.json"),
		"--exit-with-stdin",
	}
	if opts.Issuer != "" {
		args = append(args, "--issuer", opts.Issuer)
	}
	if opts.IgnoreAuthnRequests {
		args = append(args, "--ignore-authn-requests")
	}
	if opts.SHA1 {
		args = append(args, "--sha1")
	}
	if opts.DenyUser != "" {
		args = append(args, "--deny-user", opts.DenyUser)
	}
	if opts.ClockOffset != 0 {
		args = append(args, "--clock-offset-seconds", strconv.FormatInt(int64(opts.ClockOffset/time.Second), 10))
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	stderr := &lockedBuffer{}
	ready := newReadyWriter()
	cmd.Stdout = ready
	cmd.Stderr = stderr
	cmd.WaitDelay = stopTimeout
	// server.js exits when its stdin closes, so an IdP outlives neither a
	// test binary that is killed before its cleanups run nor this helper.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("samlidp: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("samlidp: start node: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	idp := &IdP{stderr: stderr}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("samlidp: IdP stderr:\n%s", stderr.String())
		}
		stop(t, cmd, stdin, exited)
	})

	select {
	case base := <-ready.url:
		idp.BaseURL = base
	case err := <-exited:
		exited <- err // let the cleanup see it too
		t.Fatalf("samlidp: node server.js exited before READY (%v); stderr:\n%s", err, stderr.String())
	case <-time.After(readyTimeout):
		t.Fatalf("samlidp: no READY line from node server.js within %s; stderr:\n%s", readyTimeout, stderr.String())
	}
	idp.SSOURL = idp.BaseURL + "/sso"
	idp.MetadataURL = idp.BaseURL + "/metadata"
	idp.Issuer = opts.Issuer
	if idp.Issuer == "" {
		idp.Issuer = idp.BaseURL
	}
	idp.CertPEM = string(pair.certPEM)
	idp.Cert = pair.cert
	return idp
}

// stop sends SIGTERM and waits; server.js closes its listener and exits.
// Only if it hangs is it killed, and that is reported as a test error.
func stop(t testing.TB, cmd *exec.Cmd, stdin io.Closer, exited chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-exited:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		err = <-exited
		t.Errorf("samlidp: node server.js did not exit within %s of SIGTERM; killed", stopTimeout)
	}
	_ = stdin.Close()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Logf("samlidp: waiting for node: %v", err)
	}
}

// idpDir is test/e2e/idp, found from this source file so that Start works
// from any package's tests, whatever their working directory.
func idpDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("samlidp: cannot locate source file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "idp")
	if _, err := os.Stat(filepath.Join(dir, "server.js")); err != nil {
		t.Fatalf("samlidp: IdP sources not found: %v", err)
	}
	return dir
}

// requireTool finds a program in PATH. Without it the test is skipped with
// an install hint, except in CI (CI=true), where a missing tool must fail
// the run rather than silently shrink it.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("samlidp: %s not found in PATH; the e2e IdP needs Node.js 20+ and npm "+
		"(Debian: apt-get install nodejs npm)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// readyWriter is node's stdout: it sends the URL from the first
// "READY <url>" line and swallows the rest.
type readyWriter struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	url  chan string
}

func newReadyWriter() *readyWriter { return &readyWriter{url: make(chan string, 1)} }

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		line, rest, found := bytes.Cut(w.buf, []byte("\n"))
		if !found {
			break
		}
		w.buf = rest
		if base, ok := strings.CutPrefix(strings.TrimSpace(string(line)), "READY "); ok {
			w.done = true
			w.buf = nil
			w.url <- base
			break
		}
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
