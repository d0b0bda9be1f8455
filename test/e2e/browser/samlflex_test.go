package browser_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

const (
	cliTimeout   = 30 * time.Second
	readyTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// The IdP's users. alice has every attribute; her roles come as one value,
// the way a Salesforce formula field sends them.
const (
	aliceUser     = "alice@example.com"
	alicePassword = "correct horse battery staple"
	aliceFullName = "Alice O'Hara & Co"
	// bob is the victim of the login CSRF test.
	bobUser     = "bob@example.com"
	bobPassword = "bob's own password"
)

func testUsers() []samlidp.User {
	return []samlidp.User{{
		Username: aliceUser,
		Password: alicePassword,
		FullName: aliceFullName,
		Email:    aliceUser,
		Roles:    []string{"supervisor, agent"},
	}, {
		Username: bobUser,
		Password: bobPassword,
		FullName: "Bob",
		Email:    bobUser,
		Roles:    []string{"agent"},
	}}
}

// site is one running login flow: `samlflex serve` on 127.0.0.1 with one
// account, the samlify IdP on localhost (another site) set up for that
// account, and the landing page that the account's start URL names.
type site struct {
	BaseURL  string // samlflex, http://127.0.0.1:PORT
	SID      string // the account
	LoginURL string // the login link
	ACSURL   string
	EntityID string
	IdP      *samlidp.IdP
	Landing  *landing

	log *samlflextest.LogBuffer // samlflex serve's stdout and stderr, of every run

	bin, data string
	port      int
	stopServe func() // stops the running samlflex serve; idempotent
}

type siteOptions struct {
	// idpInitiated is the account's --idp-initiated: "" (the default,
	// bounce), "accept" or "refuse".
	idpInitiated string
	// idpIgnoresRequests makes the IdP answer every AuthnRequest from a
	// signed-in browser with an unsolicited Response.
	idpIgnoresRequests bool
	// flex, when set, gives the account a Flex connection: logins then
	// provision the Flex user and deliver a Flex token (see flex_test.go).
	flex *flexConnection
	// users replace testUsers() at the IdP.
	users []samlidp.User
}

// flexConnection is what an admin passes to `samlflex account put` to
// connect an account to Flex.
type flexConnection struct {
	instanceSID string
	apiKeySID   string
	apiSecret   string // written to a file for --flex-api-key-secret-file
	apiBaseURL  string
	deliveryURL string
}

// newSite starts a site for t and stops it when t ends. samlflex's output
// is logged if t fails; the IdP's is logged by samlidp.
func newSite(t *testing.T, opts siteOptions) *site {
	t.Helper()
	bin := samlflexBinary(t)
	// The account's entity ID and ACS URL derive from the base URL, and
	// the IdP must know them before samlflex runs: pick the port first.
	port := freePort(t)
	s := &site{BaseURL: "http://127.0.0.1:" + strconv.Itoa(port), SID: newAccountSID(t), log: &samlflextest.LogBuffer{}}
	s.LoginURL = s.BaseURL + "/v1/Accounts/" + s.SID + "/saml2/login"
	s.ACSURL = s.BaseURL + "/v1/Accounts/" + s.SID + "/saml2"
	s.EntityID = s.BaseURL + "/v1/Accounts/" + s.SID + "/saml2/metadata"
	s.Landing = startLanding(t, s.BaseURL, s.SID)
	users := testUsers()
	if opts.users != nil {
		users = opts.users
	}
	s.IdP = samlidp.Start(t, samlidp.Options{SPEntityID: s.EntityID, SPACSURL: s.ACSURL, Users: users, Host: "localhost",
		IgnoreAuthnRequests: opts.idpIgnoresRequests})

	dir := t.TempDir()
	s.bin, s.port, s.data = bin, port, filepath.Join(dir, "data")
	args := []string{"account", "put", "--data", s.data,
		"--account-sid", s.SID,
		"--friendly-name", "Salesforce (e2e " + t.Name() + ")",
		"--idp-cert", writeTempFile(t, "idp-cert.pem", s.IdP.CertPEM),
		"--idp-issuer", s.IdP.Issuer,
		"--idp-sso-url", s.IdP.SSOURL,
		"--start-url", s.Landing.URL,
	}
	if opts.idpInitiated != "" {
		args = append(args, "--idp-initiated", opts.idpInitiated)
	}
	if f := opts.flex; f != nil {
		args = append(args,
			"--flex-instance-sid", f.instanceSID,
			"--flex-api-key-sid", f.apiKeySID,
			"--flex-api-key-secret-file", writeTempFile(t, "flex-api-key-secret", f.apiSecret+"\n"),
			"--flex-api-base-url", f.apiBaseURL,
			"--flex-delivery-url", f.deliveryURL,
		)
	}
	runCLI(t, bin, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("samlflex serve output:\n%s", s.log.String())
		}
	})
	s.serve(t)
	return s
}

// switchIdP points the account at another IdP (its certificate, issuer
// and SSO URL) the way an admin does with the embedded store: stop
// samlflex serve, `samlflex account put` the changed settings only, start
// serve again on the same address and data. The other settings, the Flex
// connection and its stored secret among them, stay as they were.
func (s *site) switchIdP(t *testing.T, idp *samlidp.IdP) {
	t.Helper()
	s.stopServe()
	runCLI(t, s.bin, "account", "put", "--data", s.data,
		"--account-sid", s.SID,
		"--idp-cert", writeTempFile(t, "idp-cert.pem", idp.CertPEM),
		"--idp-issuer", idp.Issuer,
		"--idp-sso-url", idp.SSOURL,
	)
	s.IdP = idp
	s.serve(t)
}

// writeTempFile writes text to a new file in a fresh temporary directory
// of t, readable by its owner only, and returns its path.
func writeTempFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCLI runs one samlflex command to completion and fails t if it fails.
func runCLI(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("samlflex %s %s: %v\n%s", args[0], args[1], err, out)
	}
}

// serve runs `samlflex serve` until t ends (or s.stopServe) and waits for
// /healthz.
func (s *site) serve(t *testing.T) {
	t.Helper()
	cmd := exec.Command(s.bin, "serve",
		"--addr", "127.0.0.1:"+strconv.Itoa(s.port),
		"--base-url", s.BaseURL,
		"--data", s.data)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	cmd.WaitDelay = stopTimeout
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start samlflex serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.stopServe = sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("samlflex serve did not exit within %s of SIGTERM; killed", stopTimeout)
		}
	})
	t.Cleanup(s.stopServe)

	// Poll /healthz: the condition is "answers 200", and the process may
	// need a moment to create its keys and store.
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(s.BaseURL + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("samlflex serve exited before /healthz answered (%v):\n%s", err, s.log.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("samlflex serve: no 200 from %s/healthz within %s:\n%s", s.BaseURL, readyTimeout, s.log.String())
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago, for a
// samlflex serve that must know its base URL before it starts.
//
// It is picked below the kernel's ephemeral range: every listener on :0 and
// every outgoing connection of the parallel tests (50 posts at once, the
// browser, the IdP) takes its port from that range, so a port picked there
// could be taken between this check and samlflex's bind (seen in CI as
// "address already in use"). Below it only other freePort calls compete,
// and those never hand out a port twice.
func freePort(t *testing.T) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var lo, hi int
		if _, err := fmt.Sscan(string(b), &lo, &hi); err == nil && lo > 11000 {
			low = lo
		}
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		var r [2]byte
		if _, err := rand.Read(r[:]); err != nil {
			t.Fatal(err)
		}
		port := 10000 + (int(r[0])<<8|int(r[1]))%(low-10000)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		_ = l.Close()
		portsGiven[port] = true
		return port
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return 0
}

// portsGiven are the ports freePort handed out in this test binary.
var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// newAccountSID returns a random Twilio Account SID (AC + 32 hex digits).
func newAccountSID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("AC%s", hex.EncodeToString(b[:]))
}
