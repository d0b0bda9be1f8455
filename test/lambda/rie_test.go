package lambda_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

const (
	// startTimeout bounds the wait for the RIE's invoke port.
	startTimeout = 10 * time.Second
	// invokeTimeout bounds one invocation, cold start included. The RIE
	// gets a shorter function timeout so that a hung function is reported
	// by the RIE before the client gives up.
	invokeTimeout   = 30 * time.Second
	functionTimeout = "20" // seconds, AWS_LAMBDA_FUNCTION_TIMEOUT
	// stopTimeout bounds the wait for a stopped process.
	stopTimeout = 10 * time.Second
)

// function is one Lambda function: its bootstrap under a running RIE.
type function struct {
	name      string
	bootstrap string
	url       string // the RIE's invoke endpoint
	// stdout is the RIE's stdout, which is where the bootstrap's stdout
	// and stderr go (CloudWatch collects the same), interleaved with the
	// RIE's START/END/REPORT lines. stderr is the RIE's own log.
	stdout, stderr *samlflextest.LogBuffer
	cmd            *exec.Cmd
	exited         chan struct{} // closed when cmd.Wait returns
	// mu serializes invocations: a Lambda execution environment, and the
	// RIE, handle one at a time (the RIE answers 400 to a second).
	mu     sync.Mutex
	client *http.Client
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago. The RIE needs two: the invoke endpoint and the Runtime API (whose
// default, 9001, would collide between functions and test runs).
func freeAddr(t *testing.T) string {
	t.Helper()
	return samlflextest.FreeAddr(t)
}

// startFunction starts bootstrap under the RIE with exactly env (nothing
// is inherited from the test process: no developer credentials, proxies or
// AWS profiles reach the function). The process is stopped when t ends,
// and its output is logged if t failed.
func startFunction(t *testing.T, name, bootstrap string, env map[string]string) *function {
	t.Helper()
	rieExe := rieBinary(t)
	var lastErr error
	// A port taken between freeAddr and the RIE's bind makes the RIE exit
	// at once; a new pair of ports is then tried.
	for range 3 {
		f, err := tryStart(t, rieExe, name, bootstrap, env)
		if err == nil {
			return f
		}
		lastErr = err
	}
	t.Fatalf("starting %s under the RIE: %v", name, lastErr)
	return nil
}

func tryStart(t *testing.T, rieExe, name, bootstrap string, env map[string]string) (*function, error) {
	t.Helper()
	addr, apiAddr := freeAddr(t), freeAddr(t)
	f := &function{
		name:      name,
		bootstrap: bootstrap,
		url:       "http://" + addr + "/2015-03-31/functions/function/invocations",
		stdout:    &samlflextest.LogBuffer{},
		stderr:    &samlflextest.LogBuffer{},
		exited:    make(chan struct{}),
		client:    &http.Client{Timeout: invokeTimeout},
	}
	cmd := exec.Command(rieExe, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap) // the task root, like /var/task
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdout, cmd.Stderr = f.stdout, f.stderr
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(f.exited)
	}()
	// Both ports must accept connections before the first invoke. The RIE
	// opens the Runtime API in a goroutine of its own (rapid.Start), not
	// before the invoke endpoint: a test that waited for the invoke port
	// alone once sent an invoke whose bootstrap then found the Runtime API
	// not yet listening ("connection refused") and exited.
	deadline := time.Now().Add(startTimeout)
	for _, a := range []string{addr, apiAddr} {
		if err := f.waitListening(t, a, deadline); err != nil {
			return nil, err
		}
	}
	t.Cleanup(func() {
		f.stop(t)
		if t.Failed() {
			t.Logf("%s function stdout (RIE stdout):\n%s", name, f.stdout)
			t.Logf("%s RIE stderr:\n%s", name, f.stderr)
		}
	})
	return f, nil
}

// waitListening waits until addr accepts a TCP connection, the RIE has
// exited, or deadline has passed.
func (f *function) waitListening(t *testing.T, addr string, deadline time.Time) error {
	t.Helper()
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		select {
		case <-f.exited:
			return fmt.Errorf("RIE exited before listening on %s: %v\nstderr:\n%s", addr, f.cmd.ProcessState, f.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.stop(t)
			return fmt.Errorf("RIE not listening on %s after %v\nstderr:\n%s", addr, startTimeout, f.stderr)
		}
	}
}

// stop ends the RIE with SIGTERM, which makes it kill the bootstrap
// (SIGKILL to the runtime's process group) and exit; SIGKILL after
// stopTimeout. The bootstrap runs in its own process group, so it is
// checked separately: it must be gone too, and is killed (an error) if it
// is not.
func (f *function) stop(t *testing.T) {
	t.Helper()
	select {
	case <-f.exited:
		return
	default:
	}
	children := childPIDs(f.cmd.Process.Pid)
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(stopTimeout):
		t.Errorf("%s: RIE ignored SIGTERM for %v; killing it", f.name, stopTimeout)
		_ = f.cmd.Process.Kill()
		select {
		case <-f.exited:
		case <-time.After(stopTimeout):
			t.Errorf("%s: RIE (pid %d) still running after SIGKILL", f.name, f.cmd.Process.Pid)
		}
	}
	for _, pid := range children {
		if err := waitGone(pid, stopTimeout); err != nil {
			t.Errorf("%s: %v", f.name, err)
			killIfBootstrap(pid, f.bootstrap)
		}
	}
}

// invoke sends payload to the function as the Lambda service would and
// returns the RIE's answer: the handler's JSON response, or an
// errorMessage document when the handler returned an error.
func (f *function) invoke(t *testing.T, payload []byte) (int, []byte) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), invokeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("invoking %s: %v", f.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20)) // Lambda's response limit
	if err != nil {
		t.Fatalf("invoking %s: reading the answer: %v", f.name, err)
	}
	return resp.StatusCode, body
}

// waitOutput waits until the function's stdout has a line for which match
// is true (the pipes from the bootstrap through the RIE to the test are
// copied asynchronously) and returns that line.
func (f *function) waitOutput(t *testing.T, what string, match func(line string) bool) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range f.stdout.Lines() {
			if match(line) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no stdout line with %s", f.name, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rieLine reports whether line is one the RIE itself prints around each
// invocation (Lambda prints the same to CloudWatch).
func rieLine(line string) bool {
	return strings.HasPrefix(line, "START RequestId: ") || strings.HasPrefix(line, "END RequestId: ") ||
		strings.HasPrefix(line, "REPORT RequestId: ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var errStillRunning = errors.New("still running")

// waitGone waits until pid has exited (or was reaped).
func waitGone(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("bootstrap (pid %d) %w %v after its RIE stopped", pid, errStillRunning, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
