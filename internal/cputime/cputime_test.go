package cputime

import (
	"crypto/sha256"
	"testing"
	"time"
)

// TestProcessAdvances: burning CPU moves the clock forward, by no more
// than the wall time it took times the CPUs that could have run it.
func TestProcessAdvances(t *testing.T) {
	before, start := Process(), time.Now()
	sum := sha256.Sum256(nil)
	for time.Since(start) < 50*time.Millisecond {
		sum = sha256.Sum256(sum[:])
	}
	used := Process() - before
	if used <= 0 {
		t.Fatalf("CPU time did not advance (%v) after 50 ms of hashing", used)
	}
	if wall := time.Since(start); used > 64*wall {
		t.Fatalf("CPU time %v for %v of wall time", used, wall)
	}
}
