#!/usr/bin/env bash
# Latency of GET/SET while background saves run, redis-server (fork) and Tessera (point-in-time slot
# copy-on-write) side by side: each server is pinned to CPU 1 with 1,000,000 keys, redis-benchmark (pinned to
# CPU 0) runs SET then GET over random keys while a BGSAVE starts every second, and the p50/p99/max latencies
# are printed for each server, then the same run without saves as the baseline. Also reports how long one
# BGSAVE of the data set takes on each.
#
#   bench/bgsave-latency.sh                  # 1,000,000 keys, 300,000 requests per test
#   KEYS=2000000 REQUESTS=500000 bench/bgsave-latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
REQUESTS=${REQUESTS:-300000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
source bench/common.sh
REDIS_PORT=$(free_port)
TESSERA_PORT=$(free_port)
WORK=$(mktemp -d)
mkdir -p "$WORK/redis" "$WORK/tessera"
COMMON=(--bind 127.0.0.1 --save "" --appendonly no --enable-debug-command yes)
taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" "${COMMON[@]}" --dir "$WORK/redis" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
taskset -c "$SERVER_CPU" "$TESSERA" server --port "$TESSERA_PORT" "${COMMON[@]}" --dir "$WORK/tessera" >"$WORK/tessera.log" 2>&1 &
TESSERA_PID=$!
cleanup() { kill "$REDIS_PID" "$TESSERA_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for port in "$REDIS_PORT" "$TESSERA_PORT"; do
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" DEBUG POPULATE "$KEYS" key 100 >/dev/null
done

# Seconds one BGSAVE takes, from INFO's own counter of the last save (whole seconds, as Redis reports it) and
# the wall clock around it.
save_seconds() {
    local port=$1 start
    start=$(date +%s.%N)
    redis-cli -p "$port" BGSAVE >/dev/null
    sleep 0.05
    while redis-cli -p "$port" INFO persistence | grep -q '^rdb_bgsave_in_progress:1'; do sleep 0.01; done
    echo "$(date +%s.%N) - $start" | bc
}

# p50/p99/max of SET and GET over random keys, optionally with a BGSAVE started every second meanwhile.
run() {
    local port=$1 saving=$2 saver=""
    if [ "$saving" = yes ]; then
        ( while true; do redis-cli -p "$port" BGSAVE >/dev/null 2>&1; sleep 1; done ) &
        saver=$!
    fi
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set,get -n "$REQUESTS" -r "$KEYS" -c 20 -d 100 --csv 2>/dev/null \
        | awk -F'"' 'NR>1 { printf "%s rps=%s p50=%s p99=%s max=%s  ", $2, $4, $10, $14, $16 }'
    [ -n "$saver" ] && { kill "$saver"; wait "$saver" 2>/dev/null || true; }
    while redis-cli -p "$port" INFO persistence | grep -q '^rdb_bgsave_in_progress:1'; do sleep 0.05; done
    echo
}

printf 'one BGSAVE of %s keys: redis %.2f s, tessera %.2f s\n' "$KEYS" "$(save_seconds "$REDIS_PORT")" "$(save_seconds "$TESSERA_PORT")"
for saving in yes no; do
    echo "== BGSAVE every second: $saving"
    printf 'redis   '; run "$REDIS_PORT" "$saving"
    printf 'tessera '; run "$TESSERA_PORT" "$saving"
done
