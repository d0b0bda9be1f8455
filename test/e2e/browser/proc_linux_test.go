package browser_test

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has Linux kill cmd when the test binary dies, so
// that a test killed before its cleanups run (go test -timeout) leaves no
// samlflex serve behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
