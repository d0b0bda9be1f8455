//go:build !linux

package browser_test

import "os/exec"

// setParentDeathSignal does nothing where Pdeathsig is missing: there, a
// test binary killed before its cleanups run can leave samlflex serve
// running.
func setParentDeathSignal(*exec.Cmd) {}
