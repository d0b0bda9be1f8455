#!/usr/bin/env bash
# start.sh PORT: start dynalite (an in-memory DynamoDB emulator) on
# 127.0.0.1:PORT in the background, wait until it answers, print its PID.
#
#   pid=$(scripts/dynalite/start.sh 4567)
#   SAMLFLEX_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:4567 go test -race ./internal/store/...
#   scripts/dynalite/stop.sh "$pid"
#
# Only the PID goes to stdout so that $(...) captures it; everything else
# goes to stderr or to the log file named on stderr.
set -euo pipefail

port="${1:-}"
if [[ ! "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
  echo "usage: $0 PORT" >&2
  exit 2
fi

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$dir"

if [[ ! -d node_modules/dynalite ]]; then
  # npm ci installs exactly package-lock.json, so every run tests against
  # the same emulator version.
  npm ci --silent --no-audit --no-fund >&2
fi

# Refuse a port that is already taken: otherwise the wait below would
# succeed against whatever else is listening and print a PID that died.
if node -e '
  const s = require("net").connect(+process.argv[1], "127.0.0.1");
  s.on("connect", () => process.exit(0));
  s.on("error", () => process.exit(1));' "$port"; then
  echo "start.sh: 127.0.0.1:$port is already in use" >&2
  exit 1
fi

log="${TMPDIR:-/tmp}/samlflex-dynalite-$port.log"
# createTableMs/deleteTableMs 0: tests create fresh tables for every run and
# do not need to wait for the emulated CREATING state. setsid + nohup detach
# dynalite from this shell so that the caller's $(...) returns.
setsid nohup node node_modules/dynalite/cli.js \
  --host 127.0.0.1 --port "$port" --createTableMs 0 --deleteTableMs 0 \
  >"$log" 2>&1 </dev/null &
pid=$!

# Wait (up to ~10s) until dynalite answers an HTTP request.
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start.sh: dynalite exited; log: $log" >&2
    cat "$log" >&2
    exit 1
  fi
  if node -e '
    const r = require("http").get({host: "127.0.0.1", port: +process.argv[1], path: "/", timeout: 500},
      () => process.exit(0));
    r.on("error", () => process.exit(1));
    r.on("timeout", () => { r.destroy(); process.exit(1); });' "$port"; then
    echo "start.sh: dynalite listening on http://127.0.0.1:$port (pid $pid, log $log)" >&2
    echo "$pid"
    exit 0
  fi
  sleep 0.1
done

echo "start.sh: dynalite did not answer on 127.0.0.1:$port; log: $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
