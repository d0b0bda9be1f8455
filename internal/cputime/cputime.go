// Package cputime reads the CPU time this process has used, for benchmarks
// that report CPU per operation beside wall time: a login waits for an
// fsync it does not spend CPU on, and on Lambda CPU is what is scarce and
// billed.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user plus system CPU time of the whole process (all
// threads, the garbage collector's included).
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
