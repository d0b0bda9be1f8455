package lambda_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// cpuRuns is how many times each warm invocation is repeated for the CPU
// figures: single invocations vary (GC, the scheduler), and without
// schedstat /proc counts CPU in 10 ms ticks.
const cpuRuns = 30

// bootstrapPID is the pid of fn's bootstrap (the RIE starts it on the
// first invocation).
func bootstrapPID(t *testing.T, fn *function) int {
	t.Helper()
	for _, pid := range childPIDs(fn.cmd.Process.Pid) {
		if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe")); err == nil && exe == fn.bootstrap {
			return pid
		}
	}
	t.Fatalf("%s: no bootstrap process under the RIE", fn.name)
	return 0
}

// cpuMeter sums the bootstrap's CPU time per kind of invocation.
type cpuMeter struct {
	t     *testing.T
	pid   int
	total map[string]time.Duration
	count map[string]int
	order []string
}

func newCPUMeter(t *testing.T, fn *function) *cpuMeter {
	t.Helper()
	return &cpuMeter{t: t, pid: bootstrapPID(t, fn), total: map[string]time.Duration{}, count: map[string]int{}}
}

// measure runs do and charges the bootstrap's CPU time meanwhile to what.
// The bootstrap only runs while an invocation is in flight (the RIE, like
// Lambda, has no other work for it), so the delta is that invocation's.
func (m *cpuMeter) measure(what string, do func()) {
	m.t.Helper()
	before, ok := cpuTime(m.pid)
	do()
	after, ok2 := cpuTime(m.pid)
	if !ok || !ok2 {
		m.t.Fatalf("reading the CPU time of pid %d", m.pid)
	}
	if _, seen := m.count[what]; !seen {
		m.order = append(m.order, what)
	}
	m.total[what] += after - before
	m.count[what]++
}

func (m *cpuMeter) log(fn string) {
	for _, what := range m.order {
		m.t.Logf("cpu %-8s %-34s %6.2f ms per invocation (%d invocations, %.1f ms in all; host %s)",
			fn, what, ms(m.total[what])/float64(m.count[what]), m.count[what], ms(m.total[what]), hostCPU())
	}
}

// hostCPU names the machine's CPU: the figures are host figures, and a
// Lambda arm64 (Graviton) vCPU is not the same.
func hostCPU() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// figureCPU reports the CPU time per invocation of each function, for
// sizing their memory (Lambda gives a function CPU in proportion to its
// memory: one vCPU at 1,769 MB): cold (process start, init and the first
// request, including its TLS-free calls to the emulated services), and
// warm for each kind of request. One function runs at a time.
func figureCPU(t *testing.T) {
	if _, ok := cpuTime(os.Getpid()); !ok {
		samlflextest.RequireOrSkip(t, "CPU figures need /proc (Linux)")
		return
	}
	samlflextest.DynamoDBEndpoint(t)
	rieBinary(t)
	functionBootstrap(t, "acs")
	st := newStack(t)
	idp := startLoginIdP(t, st)

	// Cold: the whole CPU time of the bootstrap after its first
	// invocation.
	for _, c := range []struct{ name, what string }{{"acs", "login link"}, {"metadata", "SP metadata"}, {"rotate", "scan"}} {
		var sum time.Duration
		for range coldStarts {
			fn := st.start(t, c.name, keysSecret)
			var status int
			switch c.name {
			case "rotate":
				status, _ = fn.invoke(t, []byte(`{"action":"scan_idp_certificates"}`))
			case "acs":
				status, _ = fn.invoke(t, getEvent(accountPath+"/login", "").json(t))
			default:
				status, _ = fn.invoke(t, getEvent(accountPath+"/metadata", "").json(t))
			}
			if status != http.StatusOK {
				t.Fatalf("%s cold %s: RIE %d", c.name, c.what, status)
			}
			cpu, ok := cpuTime(bootstrapPID(t, fn))
			if !ok {
				t.Fatal("reading CPU time")
			}
			sum += cpu
			fn.stop(t)
		}
		t.Logf("cpu %-8s %-34s %6.2f ms (mean of %d cold starts: init + first %s; host %s)",
			c.name, "cold start", ms(sum)/coldStarts, coldStarts, c.what, hostCPU())
	}

	acs := st.start(t, "acs", keysSecret)
	a := startLogin(t, acs, idp, startURL) // warms the function up
	finishLogin(t, acs, idp, a, http.StatusSeeOther, "")
	m := newCPUMeter(t, acs)
	for range cpuRuns {
		var a loginAttempt
		m.measure("login link (warm)", func() { a = startLogin(t, acs, idp, startURL) })
		m.measure("ACS, successful login (warm)", func() { finishLogin(t, acs, idp, a, http.StatusSeeOther, "") })
		m.measure("ACS, replay refused (warm)", func() {
			finishLogin(t, acs, idp, a, http.StatusConflict, "assertion_replayed")
		})
	}
	m.log("acs")
	acs.stop(t)

	meta := st.start(t, "metadata", keysSecret)
	invokeHTTP(t, meta, httpCase{name: "warm-up", event: getEvent(accountPath+"/metadata", ""), wantStatus: http.StatusOK})
	m = newCPUMeter(t, meta)
	for range cpuRuns {
		m.measure("SP metadata (warm)", func() {
			invokeHTTP(t, meta, httpCase{name: "metadata", event: getEvent(accountPath+"/metadata", ""), wantStatus: http.StatusOK})
		})
		m.measure("JWKS (warm)", func() {
			invokeHTTP(t, meta, httpCase{name: "JWKS", event: getEvent("/.well-known/jwks.json", ""), wantStatus: http.StatusOK})
		})
	}
	m.log("metadata")
	meta.stop(t)

	rot := st.start(t, "rotate", keysSecret)
	if status, _ := rot.invoke(t, []byte(`{"action":"scan_idp_certificates"}`)); status != http.StatusOK {
		t.Fatal("rotate warm-up")
	}
	m = newCPUMeter(t, rot)
	for range cpuRuns {
		m.measure("daily scan, 2 accounts (warm)", func() {
			if status, body := rot.invoke(t, []byte(`{"action":"scan_idp_certificates"}`)); status != http.StatusOK || strings.TrimSpace(string(body)) != "null" {
				t.Fatalf("scan: %d %s", status, body)
			}
		})
	}
	// Each rotation generates one RSA-2048 key pair (the new next key).
	for i := range 5 {
		m.measure("full rotation, 4 invocations (warm)", func() { rotateByToken(t, st, rot, keysSecret, i) })
	}
	m.log("rotate")
}
