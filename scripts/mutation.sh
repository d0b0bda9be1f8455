#!/usr/bin/env bash
# mutation.sh: mutation testing of the packages that decide who logs in.
# go-gremlins changes one operator at a time (== to !=, < to <=, + to -, ...)
# in pkg/samlflex and internal/acs and runs the package's tests against each
# change: a mutant that no test notices ("lived") is a check that could be
# broken with every test green. See docs/mutation.md.
#
#   scripts/mutation.sh                  both packages; gate pkg/samlflex
#   scripts/mutation.sh pkg/samlflex     one package
#
# Every lived mutant must be killed by a test or listed, with the reason it
# cannot change behaviour, in docs/mutation-equivalent.txt (left out of both
# percentages). Mutants gremlins cannot run (NOT_COVERED: switch cases and
# constants lie outside Go's coverage blocks) are listed there with the test
# that kills them when applied by hand (counted as killed). The run fails when
# pkg/samlflex is under MUTATION_THRESHOLD (default 95) percent efficacy
# (killed / (killed + lived)) or mutator coverage ((killed + lived) / all
# runnable mutants), or when any package has an unlisted lived mutant.
#
# Environment: MUTATION_WORKERS (default 2), MUTATION_THRESHOLD (default 95),
# MUTATION_TIMEOUT_COEFFICIENT (default 10).
# Takes about 3 minutes on 2 idle cores, much longer on a loaded machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=v0.6.0
workers=${MUTATION_WORKERS:-2}
threshold=${MUTATION_THRESHOLD:-95}
equiv=docs/mutation-equivalent.txt
gated=pkg/samlflex
if (($#)); then pkgs=("$@"); else pkgs=(pkg/samlflex internal/acs); fi

gremlins="$(go env GOPATH)/bin/gremlins"
# `gremlins --version` says "dev" when built by go install; the module
# version recorded in the binary is reliable.
if ! go version -m "$gremlins" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/go-gremlins/gremlins[[:space:]]+$version[[:space:]]"; then
  echo "mutation: installing gremlins $version" >&2
  go install "github.com/go-gremlins/gremlins/cmd/gremlins@$version"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# key prints the list key of a mutant: STATUS | path | MUTATOR | column |
# the source line, trimmed, followed by " #n" when it is the n-th line of
# the file with that text. The text (not the line number) identifies it, so
# unrelated edits above it do not invalidate the list.
trimmed() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
key() { # <status> <type> <path> <line> <column>
  local src n
  src=$(sed -n "${4}p" "$3" | trimmed)
  n=$(head -n "$4" "$3" | trimmed | grep -Fxc -- "$src")
  ((n > 1)) && src="$src #$n"
  printf '%s | %s | %s | %s | %s' "$1" "$3" "$2" "$5" "$src"
}

failed=0
start=$SECONDS
for pkg in "${pkgs[@]}"; do
  out="$tmp/$(echo "$pkg" | tr / _).txt"
  t0=$SECONDS
  # Never pass --test-cpu: gremlins v0.6.0 hands "-cpu N" to go test as
  # one argument, every test run then fails to start, and every mutant is
  # reported KILLED (100% efficacy for nothing).
  # The per-mutant timeout is the coefficient times the test time measured
  # at the start; gremlins' default of 3 makes a loaded machine report
  # dozens of TIMED OUT mutants (neither killed nor lived).
  "$gremlins" unleash --workers "$workers" --timeout-coefficient "${MUTATION_TIMEOUT_COEFFICIENT:-10}" "./$pkg" >"$out" 2>&1 || true
  took=$((SECONDS - t0))
  if ! grep -q '^Mutation testing completed' "$out"; then
    cat "$out" >&2
    echo "mutation: gremlins did not finish on $pkg" >&2
    exit 1
  fi
  killed=0 lived=0 uncovered=0 timedout=0 eq_lived=0 hand_killed=0
  unlisted=() seen=()
  while read -r status type file line col; do
    path="$pkg/$file"
    k=$(key "$status" "$type" "$path" "$line" "$col")
    seen+=("$k")
    listed=0
    if [[ -f $equiv ]] && grep -Fq -- "$k |" "$equiv"; then listed=1; fi
    case $status in
    KILLED) killed=$((killed + 1)) ;;
    TIMED_OUT) timedout=$((timedout + 1)) ;;
    LIVED)
      lived=$((lived + 1))
      if ((listed)); then eq_lived=$((eq_lived + 1)); else unlisted+=("$k"); fi
      ;;
    NOT_COVERED)
      uncovered=$((uncovered + 1))
      if ((listed)); then hand_killed=$((hand_killed + 1)); else unlisted+=("$k"); fi
      ;;
    esac
  done < <(sed -nE 's/^ *(KILLED|LIVED|NOT COVERED|TIMED OUT|NOT VIABLE|SKIPPED) ([A-Z_]+) at ([^:]+):([0-9]+):([0-9]+)$/\1 \2 \3 \4 \5/p' "$out" |
    sed -E 's/^NOT COVERED/NOT_COVERED/; s/^TIMED OUT/TIMED_OUT/; s/^NOT VIABLE/NOT_VIABLE/')

  pct() { if (($2 == 0)); then echo 100.0; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; fi; }
  raw_eff=$(pct "$killed" $((killed + lived)))
  raw_cov=$(pct $((killed + lived)) $((killed + lived + uncovered)))
  # Listed lived mutants are equivalent: left out. Listed not-covered ones
  # were killed by hand: counted as killed.
  k2=$((killed + hand_killed)) l2=$((lived - eq_lived))
  eff=$(pct "$k2" $((k2 + l2)))
  cov=$(pct $((k2 + l2)) $((k2 + l2 + uncovered - hand_killed)))
  echo "== $pkg (${took}s)"
  echo "   gremlins:  killed $killed, lived $lived, not covered $uncovered, timed out $timedout; efficacy $raw_eff%, mutator coverage $raw_cov%"
  echo "   with $equiv: $eq_lived lived listed as equivalent (left out), $hand_killed not covered listed as killed by hand; efficacy $eff%, mutator coverage $cov%"
  if ((timedout)); then
    echo "   WARNING: $timedout mutants timed out and count neither way; rerun on an idle machine (or raise MUTATION_TIMEOUT_COEFFICIENT)"
  fi
  if ((${#unlisted[@]})); then
    echo "   not killed and not listed as equivalent:"
    printf '     %s\n' "${unlisted[@]}"
  fi
  if [[ -f $equiv ]]; then
    while IFS= read -r entry; do
      found=0
      for k in "${seen[@]}"; do
        if [[ $entry == "$k |"* ]]; then found=1 && break; fi
      done
      ((found)) || echo "   listed but not in this run (timed out, or stale: check it): ${entry:0:140}"
    done < <(grep -E "^(LIVED|NOT_COVERED) \| $pkg/" "$equiv")
  fi
  if [[ $pkg == "$gated" ]]; then
    if awk -v e="$eff" -v c="$cov" -v t="$threshold" 'BEGIN { exit !(e < t || c < t) }'; then
      echo "   FAIL: under $threshold% (efficacy $eff%, coverage $cov%)"
      failed=1
    fi
  fi
  for k in "${unlisted[@]}"; do
    if [[ $k == LIVED* ]]; then
      failed=1
      echo "   FAIL: a lived mutant is neither killed nor listed"
      break
    fi
  done
done
echo "mutation: $((SECONDS - start))s in all"
if ((failed)); then exit 1; fi
echo "mutation: ok"
