package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// TestServeShutdownWithSlowClients: Ctrl-C (here: cancel) stops serve
// promptly and with exit 0 while clients hold connections open by sending
// a header or a body a byte at a time (Slowloris). Before, such a client
// held the shutdown for its whole 10 s timeout and serve exited 1.
func TestServeShutdownWithSlowClients(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan serving, 1)
	a := &app{stdout: &samlflextest.LogBuffer{}, stderr: &samlflextest.LogBuffer{}, getenv: func(string) string { return "" }, now: time.Now,
		onServing: func(s serving) { ready <- s }}
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}) }()
	var s serving
	select {
	case s = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d", code)
	}

	// A body that never finishes: the ACS handler blocks reading it.
	body := dial(t, s.Addr, "POST /v1/Accounts/"+sidA+"/saml2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200000\r\n\r\nSAMLResponse=PHN")
	// A header that never finishes.
	header := dial(t, s.Addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	// An idle keep-alive connection.
	idle := dial(t, s.Addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz on the idle connection: %v %v", resp, err)
	}
	// Let the server reach the body read.
	time.Sleep(200 * time.Millisecond)

	start := time.Now()
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(8 * time.Second):
		t.Fatal("serve still running 8 s after cancel (the shutdown timeout is 10 s)")
	}
	took := time.Since(start)
	if code != exitOK || took > 5*time.Second {
		t.Fatalf("exit %d after %s, want %d within about %s", code, took, exitOK, readGrace)
	}
	t.Logf("serve stopped with exit %d %s after cancel, with a slow body and a slow header open", code, took.Round(time.Millisecond))
	// The slow clients were answered or cut, not left hanging.
	for name, c := range map[string]net.Conn{"body": body, "header": header} {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("%s connection: %v", name, err)
		}
	}
}

func dial(t *testing.T, addr, send string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, send); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBaseURLMustBeHTTPSOffLoopback: serve and account get refuse a plain
// http:// base URL for another host; browsers would drop the Secure login
// cookie and every login would fail as unknown_request.
func TestBaseURLMustBeHTTPSOffLoopback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cert, _ := testCert(t, dir, "idp.crt")
	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)
	tests := []struct {
		base    string
		refused bool
	}{
		{"http://sso.example.com", true},
		{"http://10.0.0.5:8080/sso", true},
		{"http://[2001:db8::1]:8080", true},
		{"http://127.0.0.1:8080", false},
		{"http://127.8.9.10:8080", false},
		{"http://localhost:8080/sso", false},
		{"http://[::1]:8080", false},
		{"https://sso.example.com", false},
	}
	for _, tc := range tests {
		// Not parallel: the accepted cases open the one embedded store.
		t.Run(tc.base, func(t *testing.T) {
			get := cli(t, nil, "account", "get", "--data", data, "--account-sid", sidA, "--base-url", tc.base)
			env := map[string]string{"SAMLFLEX_BASE_URL": tc.base}
			getEnv := cli(t, env, "account", "get", "--data", data, "--account-sid", sidA)
			for name, r := range map[string]result{"get --base-url": get, "get SAMLFLEX_BASE_URL": getEnv} {
				if refused := r.code == exitUsage && strings.Contains(r.stderr, "plain http:// is accepted only for this computer"); refused != tc.refused {
					t.Errorf("%s: exit %d, refused %v, want %v\n%s", name, r.code, refused, tc.refused, r.stderr)
				}
			}
			if !tc.refused {
				return
			}
			// serve refuses before it opens the store (which get holds
			// only briefly) or listens.
			r := cli(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--base-url", tc.base)
			if r.code != exitUsage || !strings.Contains(r.stderr, "plain http:// is accepted only for this computer") {
				t.Errorf("serve: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}
