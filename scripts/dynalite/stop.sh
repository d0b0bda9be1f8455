#!/usr/bin/env bash
# stop.sh PID: stop a dynalite started by start.sh and wait until it is gone.
set -euo pipefail

pid="${1:-}"
if [[ ! "$pid" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 PID" >&2
  exit 2
fi

if ! kill -0 "$pid" 2>/dev/null; then
  echo "stop.sh: no process $pid (already stopped)" >&2
  exit 0
fi

# Only ever signal the dynalite we started: a stale PID may have been reused
# by an unrelated process.
if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'dynalite'; then
  echo "stop.sh: process $pid is not dynalite; not stopping it" >&2
  exit 1
fi

kill "$pid"
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || exit 0
  sleep 0.1
done
echo "stop.sh: dynalite $pid ignored SIGTERM for 5s; sending SIGKILL" >&2
kill -KILL "$pid" 2>/dev/null || true
