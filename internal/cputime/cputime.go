// Package cputime reads the CPU time this process has used, for benchmarks
// that report CPU per operation beside wall time: a login also waits for
// its store's I/O, and on Lambda CPU is what is scarce and billed.
package cputime

import (
	"syscall"
	"testing"
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

// Report reports used, the process CPU time of b's b.N operations, as the
// benchmark metric cpu-ns/op.
func Report(b *testing.B, used time.Duration) {
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
