package lambda_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setParentDeathSignal has Linux kill the RIE when the test binary dies,
// so that a test killed before its cleanups run (go test -timeout) leaves
// no RIE behind. The bootstrap then exits by itself: its Runtime API
// connection to the dead RIE fails.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// childPIDs lists the processes whose parent is ppid (the RIE's bootstrap).
func childPIDs(ppid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parent, _, ok := stat(pid); ok && parent == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// stat returns the parent and state of pid from /proc/<pid>/stat.
func stat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	// so parse after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	return ppid, f[0][0], true
}

// processAlive reports whether pid runs (a zombie has exited).
func processAlive(pid int) bool {
	_, state, ok := stat(pid)
	return ok && state != 'Z' && state != 'X'
}

// killIfBootstrap kills pid only if it still runs the test's bootstrap
// binary: a pid can be reused by an unrelated process.
func killIfBootstrap(pid int, bootstrap string) {
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	if err != nil || exe != bootstrap {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
