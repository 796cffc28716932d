#!/usr/bin/env bash
# What one claim-pending.lua call costs Redis: a departed session's streams taken over in pages of 1,000, the
# chunked takeover of a failover or handoff. Starts its own redis-server on a free loopback port, fills it with
# populate-takeover.lua, runs the script once per page (each page pending for its own consumer, so every call
# takes 1,000 fresh streams) and prints the Redis time per call from INFO commandstats (min and median over the
# repetitions), and with --callgrind the instructions per stream inside EVALSHA (repeatable whatever else the
# machine does; needs valgrind).
#
#   benchmarks/lua/claim-pending-cost.sh [--callgrind] [--checkpoints] [script.lua]
#
# The script defaults to the engine's; to compare with an earlier version:
#   git show <commit>:autoconfigure/src/main/resources/io/streamlease/engine/claim-pending.lua > /tmp/old.lua
#   benchmarks/lua/claim-pending-cost.sh /tmp/old.lua
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
script="$here/../../autoconfigure/src/main/resources/io/streamlease/engine/claim-pending.lua"
callgrind=0
checkpoints=0
for arg in "$@"; do
  case "$arg" in
    --callgrind) callgrind=1 ;;
    --checkpoints) checkpoints=1 ;;
    *) script="$arg" ;;
  esac
done
streams=10000
page=1000
reps=5
work="$(mktemp -d)"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
keys=('{svc-input}' '{svc-input}:owners' '{svc-input}:consumers' '{svc-input}:sessions' '{svc-input}:session-consumers')

start() {
  if [ "$1" = callgrind ]; then
    valgrind --tool=callgrind --toggle-collect=evalShaCommand --callgrind-out-file="$work/cg.out" \
      redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
  else
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --logfile "$work/redis.log" >/dev/null
  fi
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.2; done
  echo "redis-server did not start on port $port" >&2; exit 1
}

# one round: fill, then one call per page; prints the usec of each call
round() {
  redis-cli -p "$port" flushall >/dev/null
  redis-cli -p "$port" eval "$(cat "$here/populate-takeover.lua")" 6 "${keys[@]}" '{svc-input}:checkpoint:' \
    "$streams" "$checkpoints" "$page" >/dev/null
  sha="$(redis-cli -p "$port" script load "$(cat "$script")")"
  redis-cli -p "$port" config set slowlog-log-slower-than 0 >/dev/null
  redis-cli -p "$port" config set slowlog-max-len 100000 >/dev/null
  redis-cli -p "$port" slowlog reset >/dev/null
  for c in $(seq 1 $((streams / page))); do
    redis-cli -p "$port" evalsha "$sha" 8 "${keys[@]}" '{svc-input}:fencing' '{svc-input}:released' \
      '{svc-input}:resubmits' g B 2 "A$c" 0 - "$page" "$page" '{svc-input}:checkpoint:' 0 >/dev/null
  done
  redis-cli -p "$port" --json slowlog get 100000 | python3 -c '
import json, sys
for entry in json.load(sys.stdin):
    if entry[3][0].lower() == "evalsha":
        print(entry[2])'
}

if [ "$callgrind" = 1 ]; then
  start callgrind
  round >/dev/null
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait
  total="$(grep -h '^summary\|^totals' "$work"/cg.out* | head -1 | awk '{print $2}')"
  echo "$(basename "$script"): $((total / streams)) instructions per stream inside EVALSHA (callgrind, $streams streams, pages of $page, checkpoints $checkpoints)"
else
  start plain
  for _ in $(seq 1 "$reps"); do round; done | sort -n | python3 -c '
import sys
v = [int(x) for x in sys.stdin if x.strip()]
print("%s: usec per call of %d streams: min %d, median %d, max %d (%d calls, checkpoints %s)" % (sys.argv[1], int(sys.argv[2]), v[0], v[len(v) // 2], v[-1], len(v), sys.argv[3]))' \
    "$(basename "$script")" "$page" "$checkpoints"
fi
