#!/usr/bin/env bash
# Side by side: the same nutcracker configuration (4 redis-server backends, ketama over fnv1a_64) served by
# nutcracker 0.5.0 and by `tessera proxy`, driven by redis-benchmark -r 100000 -c 50 unpipelined and with -P 16.
# Rounds alternate between the two proxies; reports the median requests/s per test and the ratio Tessera/nutcracker,
# and each proxy's CPU time per request (from /proc, user+system) for the unpipelined runs.
# Usage: bench/proxy.sh [rounds] [requests]     (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
command -v nutcracker >/dev/null || [ -x /usr/sbin/nutcracker ] || { echo "missing nutcracker (apt-get install nutcracker)"; exit 1; }
NUTCRACKER=$(command -v nutcracker || echo /usr/sbin/nutcracker)
ROUNDS=${1:-3}
REQUESTS=${2:-200000}
TESTS=set,get,incr,mset

use_work_dir
servers=""
for i in 1 2 3 4; do
    servers="$servers   - 127.0.0.1:$(start_server redis 1 backend$i):1\n"
done
write_config() { printf "bench:\n  listen: 127.0.0.1:%s\n  hash: fnv1a_64\n  distribution: ketama\n  redis: true\n  servers:\n$servers" "$1" >"$2"; }
NC_PORT=$(free_port); TS_PORT=$(free_port)
write_config "$NC_PORT" "$WORK/nutcracker.yml"
write_config "$TS_PORT" "$WORK/tessera.yml"
"$NUTCRACKER" -c "$WORK/nutcracker.yml" -s "$(free_port)" -a 127.0.0.1 -o "$WORK/nutcracker.log" &
NC_PID=$!; echo $NC_PID >>"$WORK/pids"
"$TESSERA" proxy -c "$WORK/tessera.yml" -s "$(free_port)" -a 127.0.0.1 2>"$WORK/tessera-proxy.log" &
TS_PID=$!; echo $TS_PID >>"$WORK/pids"
for port in $NC_PORT $TS_PORT; do
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run PORT PIPELINE: "test rps" lines
run() {
    redis-benchmark -p "$1" -r 100000 -c 50 -n "$REQUESTS" -P "$2" -t "$TESTS" --csv 2>/dev/null \
        | grep -v -e '^"test"' -e WARNING | tr -d '"' | awk -F, '{gsub(/ /, "_", $1); print tolower($1), $2}'
}

echo "proxy benchmark: $ROUNDS rounds, $REQUESTS requests per test, tests $TESTS, 4 redis-server backends"
for pipeline in 1 16; do
    : >"$WORK/nc.$pipeline"; : >"$WORK/ts.$pipeline"
    nc_cpu=0; ts_cpu=0; total=0
    for round in $(seq "$ROUNDS"); do
        before=$(cpu_ticks $NC_PID); run "$NC_PORT" "$pipeline" >>"$WORK/nc.$pipeline"; nc_cpu=$((nc_cpu + $(cpu_ticks $NC_PID) - before))
        before=$(cpu_ticks $TS_PID); run "$TS_PORT" "$pipeline" >>"$WORK/ts.$pipeline"; ts_cpu=$((ts_cpu + $(cpu_ticks $TS_PID) - before))
    done
    echo "-P $pipeline                nutcracker     tessera   ratio"
    for t in $(awk '{print $1}' "$WORK/nc.$pipeline" | sort -u); do
        nc=$(awk -v t="$t" '$1==t {print $2}' "$WORK/nc.$pipeline" | median)
        ts=$(awk -v t="$t" '$1==t {print $2}' "$WORK/ts.$pipeline" | median)
        printf "  %-18s %12.0f %12.0f   %.2fx\n" "$t" "$nc" "$ts" "$(echo "$ts / $nc" | bc -l)"
    done
    printf "  CPU time (all tests, all rounds): nutcracker %d ticks, tessera %d ticks (%.2fx)\n" "$nc_cpu" "$ts_cpu" "$(echo "$ts_cpu / ($nc_cpu + 0.0001)" | bc -l)"
done
