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
	"syscall"
	"testing"
	"time"

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
)

func testUsers() []samlidp.User {
	return []samlidp.User{{
		Username: aliceUser,
		Password: alicePassword,
		FullName: aliceFullName,
		Email:    aliceUser,
		Roles:    []string{"supervisor, agent"},
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

	log *lockedBuffer // samlflex serve's stdout and stderr
}

type siteOptions struct {
	allowIdPInitiated bool
}

// newSite starts a site for t and stops it when t ends. samlflex's output
// is logged if t fails; the IdP's is logged by samlidp.
func newSite(t *testing.T, opts siteOptions) *site {
	t.Helper()
	bin := samlflexBinary(t)
	// The account's entity ID and ACS URL derive from the base URL, and
	// the IdP must know them before samlflex runs: pick the port first.
	port := freePort(t)
	s := &site{BaseURL: "http://127.0.0.1:" + strconv.Itoa(port), SID: newAccountSID(t), log: &lockedBuffer{}}
	s.LoginURL = s.BaseURL + "/v1/Accounts/" + s.SID + "/saml2/login"
	s.ACSURL = s.BaseURL + "/v1/Accounts/" + s.SID + "/saml2"
	s.EntityID = s.BaseURL + "/v1/Accounts/" + s.SID + "/saml2/metadata"
	s.Landing = startLanding(t, s.BaseURL, s.SID)
	s.IdP = samlidp.Start(t, samlidp.Options{SPEntityID: s.EntityID, SPACSURL: s.ACSURL, Users: testUsers(), Host: "localhost"})

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	certFile := filepath.Join(dir, "idp-cert.pem")
	if err := os.WriteFile(certFile, []byte(s.IdP.CertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, bin, "account", "put", "--data", data,
		"--account-sid", s.SID,
		"--friendly-name", "Salesforce (e2e "+t.Name()+")",
		"--idp-cert", certFile,
		"--idp-issuer", s.IdP.Issuer,
		"--idp-sso-url", s.IdP.SSOURL,
		"--start-url", s.Landing.URL,
		"--allow-idp-initiated="+strconv.FormatBool(opts.allowIdPInitiated),
	)
	s.serve(t, bin, port, data)
	return s
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

// serve runs `samlflex serve` until t ends and waits for /healthz.
func (s *site) serve(t *testing.T, bin string, port int, data string) {
	t.Helper()
	cmd := exec.Command(bin, "serve",
		"--addr", "127.0.0.1:"+strconv.Itoa(port),
		"--base-url", s.BaseURL,
		"--data", data)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	cmd.WaitDelay = stopTimeout
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start samlflex serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("samlflex serve output:\n%s", s.log.String())
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("samlflex serve did not exit within %s of SIGTERM; killed", stopTimeout)
		}
	})

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

// freePort returns a loopback TCP port that was free a moment ago. Another
// process could take it before samlflex binds it; samlflex then fails to
// start, with its error in the test output.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("listener address %v is not TCP", l.Addr())
	}
	return addr.Port
}

// newAccountSID returns a random Twilio Account SID (AC + 32 hex digits).
func newAccountSID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("AC%s", hex.EncodeToString(b[:]))
}
