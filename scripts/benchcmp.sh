#!/usr/bin/env bash
# benchcmp.sh: run BenchmarkValidate (samlflex's full verification and
# mapping) beside BenchmarkBareGosaml2 (gosaml2 alone) on the same input in
# the same run, and compare. Allocations per op are deterministic, so the
# target (at most 1.0x the bare library) is enforced on them; the time
# ratio is printed, not asserted, because wall time on a shared machine
# flakes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
count="${BENCH_COUNT:-3}"
out=$(GOMAXPROCS=1 go test -run '^$' -bench '^Benchmark(Validate|BareGosaml2)$' -benchmem -count "$count" ./pkg/samlflex)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /^BenchmarkValidate/    { vt += $3; vb += $(NF-3); va += $(NF-1); vn++ }
  /^BenchmarkBareGosaml2/ { gt += $3; gb += $(NF-3); ga += $(NF-1); gn++ }
  END {
    if (vn == 0 || gn == 0) { print "benchcmp: benchmarks did not run"; exit 1 }
    rt = (vt/vn)/(gt/gn); rb = (vb/vn)/(gb/gn); ra = (va/vn)/(ga/gn)
    printf "samlflex/gosaml2: time %.2fx, bytes %.2fx, allocs %.2fx (target <= 1.00x, stretch 0.50x)\n", rt, rb, ra
    if (ra > 1.0 || rb > 1.0) { print "benchcmp: allocations above the bare library"; exit 1 }
  }'
