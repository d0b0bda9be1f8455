//go:build !linux

package lambda_test

import (
	"os/exec"
	"time"
)

// setParentDeathSignal does nothing where Pdeathsig is missing: there, a
// test binary killed before its cleanups run can leave an RIE running.
func setParentDeathSignal(*exec.Cmd) {}

// childPIDs cannot list children without /proc; the RIE's own SIGTERM
// handling (it kills the bootstrap before exiting) is relied on instead.
func childPIDs(int) []int { return nil }

func processAlive(int) bool { return false }

func killIfBootstrap(int, string) {}

// cpuTime needs /proc; the CPU figures are skipped without it.
func cpuTime(int) (time.Duration, bool) { return 0, false }
