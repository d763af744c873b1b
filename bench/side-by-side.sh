#!/usr/bin/env bash
# Side-by-side benchmark: redis-server and Tessera on free loopback ports, each server pinned to CPU 1 and
# redis-benchmark pinned to CPU 0 (on a 2-core machine the only split where no server takes the load generator's
# core), run in interleaved rounds. Prints, per workload, each server's median requests/s and p50/p99 latency,
# server CPU per request, and the Tessera/redis ratios, then the median throughput ratio.
#
#   bench/side-by-side.sh                 # defaults: 3 rounds, 200000 requests per run
#   ROUNDS=5 REQUESTS=500000 bench/side-by-side.sh
#   WORKLOADS="get set" bench/side-by-side.sh
#   SERVER_OPTIONS="--appendonly yes --appendfsync always" bench/side-by-side.sh   # both servers with an AOF
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
source bench/common.sh

REDIS_PORT=$(free_port)
TESSERA_PORT=$(free_port)
while [ "$TESSERA_PORT" = "$REDIS_PORT" ]; do TESSERA_PORT=$(free_port); done
WORK=$(mktemp -d)
read -r -a EXTRA <<<"${SERVER_OPTIONS:-}"
mkdir -p "$WORK/redis" "$WORK/tessera"
taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no "${EXTRA[@]}" \
    --dir "$WORK/redis" --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
taskset -c "$SERVER_CPU" "$TESSERA" server --port "$TESSERA_PORT" --bind 127.0.0.1 --save "" --appendonly no "${EXTRA[@]}" \
    --dir "$WORK/tessera" >"$WORK/tessera.log" 2>&1 &
TESSERA_PID=$!
SUBSCRIBER_PIDS=()
cleanup() { kill "$REDIS_PID" "$TESSERA_PID" "${SUBSCRIBER_PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for port in "$REDIS_PORT" "$TESSERA_PORT"; do
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# A three-command script for the evalsha workload, loaded into both servers.
SCRIPT_BODY="redis.call('incr', KEYS[1]) redis.call('expire', KEYS[1], 1000) return redis.call('get', KEYS[1])"
SCRIPT_SHA=$(printf '%s' "$SCRIPT_BODY" | sha1sum | cut -d' ' -f1)
for port in "$REDIS_PORT" "$TESSERA_PORT"; do
    redis-cli -p "$port" SCRIPT LOAD "$SCRIPT_BODY" >/dev/null
done

# name|redis-benchmark arguments|command checked before measuring|untimed redis-benchmark arguments filling the data
# the workload reads or pops (each run starts from an empty server)
WORKLOADS_ALL=(
    "set|-t set -c 50 -r 100000|SET k v|"
    "get|-t get -c 50 -r 100000|GET k|-t set -r 100000"
    "incr|-t incr -c 50 -r 100000|INCR counter|"
    "mset|-t mset -c 50 -r 100000|MSET a 1 b 2|"
    "set-P16|-t set -c 50 -r 100000 -P 16|SET k v|"
    "get-P16|-t get -c 50 -r 100000 -P 16|GET k|-t set -r 100000"
    "set-P64|-t set -c 50 -r 100000 -P 64|SET k v|"
    "get-P64|-t get -c 50 -r 100000 -P 64|GET k|-t set -r 100000"
    "set-1KB|-t set -c 50 -r 100000 -d 1024|SET k v|"
    "get-c500|-t get -c 500 -r 100000|GET k|-t set -r 100000"
    "lpush|-t lpush -c 50|LPUSH list v|"
    "rpush|-t rpush -c 50|RPUSH list v|"
    "lpop|-t lpop -c 50|LPOP list|-t lpush"
    "rpop|-t rpop -c 50|RPOP list|-t rpush"
    "sadd|-t sadd -c 50 -r 100000|SADD set v|"
    "hset|-t hset -c 50 -r 100000|HSET hash f v|"
    "spop|-t spop -c 50|SPOP set|-t sadd -r 1000000"
    "zadd|-t zadd -c 50 -r 100000|ZADD zset 1 m|"
    "zpopmin|-t zpopmin -c 50|ZPOPMIN zset|-t zadd -r 1000000"
    "lrange_100|-c 50 LRANGE mylist 0 99|LRANGE list 0 99|-t lpush"
    "publish|-c 50 PUBLISH channel message|PUBLISH channel message|"
    "evalsha|-c 50 -r 100000 EVALSHA $SCRIPT_SHA 1 key:__rand_int__|EVALSHA $SCRIPT_SHA 1 scripted|"
)
# Subscribers listening on "channel" for the publish workload, on each server (on the load generator's CPU).
SUBSCRIBERS=${SUBSCRIBERS:-4}
SELECTED=${WORKLOADS:-}

# Every command must succeed on both servers, so an error reply can never count as a fast request.
for entry in "${WORKLOADS_ALL[@]}"; do
    IFS='|' read -r name _ check _ <<<"$entry"
    [ -n "$SELECTED" ] && [[ " $SELECTED " != *" $name "* ]] && continue
    for port in "$REDIS_PORT" "$TESSERA_PORT"; do
        # shellcheck disable=SC2086
        reply=$(redis-cli -p "$port" $check 2>&1)
        if [[ "$reply" == ERR* || "$reply" == WRONGTYPE* || "$reply" == *"unknown command"* ]]; then
            echo "workload $name fails on port $port: $check -> $reply"; exit 1
        fi
    done
done



if [ -z "$SELECTED" ] || [[ " $SELECTED " == *" publish "* ]]; then
    for port in "$REDIS_PORT" "$TESSERA_PORT"; do
        for _ in $(seq "$SUBSCRIBERS"); do
            taskset -c "$CLIENT_CPU" redis-cli -p "$port" SUBSCRIBE channel >/dev/null &
            SUBSCRIBER_PIDS+=($!)
        done
    done
    sleep 0.5
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# run PORT PID SETUP ARGS -> "rps p50 p99 cpu_us_per_request", on an emptied server filled by SETUP first
run() {
    local port=$1 pid=$2 setup=$3; shift 3
    local before after csv
    redis-cli -p "$port" flushall >/dev/null
    # shellcheck disable=SC2086
    [ -z "$setup" ] || taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -n "$REQUESTS" -q $setup >/dev/null 2>&1
    before=$(cpu_ticks "$pid")
    # shellcheck disable=SC2068
    csv=$(taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -n "$REQUESTS" --csv $@ 2>/dev/null | tail -1)
    after=$(cpu_ticks "$pid")
    echo "$csv" | awk -F'","' -v cpu="$((after - before))" -v tick="$TICK" -v n="$REQUESTS" \
        '{gsub(/"/,"",$0); split($0,f,","); printf "%s %s %s %.3f\n", f[2], f[5], f[7], cpu * 1000000 / tick / n}'
}


# Warm-up, untimed: both servers serve every selected workload once, so Tessera's JIT has compiled the hot paths
# (a server runs for days; the first seconds after start say nothing about it) and redis-server's caches are warm.
for entry in "${WORKLOADS_ALL[@]}"; do
    IFS='|' read -r name args _ setup <<<"$entry"
    [ -n "$SELECTED" ] && [[ " $SELECTED " != *" $name "* ]] && continue
    for port in "$REDIS_PORT" "$TESSERA_PORT"; do
        redis-cli -p "$port" flushall >/dev/null
        # shellcheck disable=SC2086
        taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -n "$((REQUESTS / 4))" -q $args >/dev/null 2>&1
    done
done

printf "%-10s | %12s %7s %7s %8s | %12s %7s %7s %8s | %6s %6s\n" workload "redis rps" "p50" "p99" "cpu/req" \
    "tessera rps" "p50" "p99" "cpu/req" "rps x" "cpu x"
RATIOS=()
for entry in "${WORKLOADS_ALL[@]}"; do
    IFS='|' read -r name args _ setup <<<"$entry"
    [ -n "$SELECTED" ] && [[ " $SELECTED " != *" $name "* ]] && continue
    : >"$WORK/r" ; : >"$WORK/t"
    for _ in $(seq "$ROUNDS"); do
        # shellcheck disable=SC2086
        run "$REDIS_PORT" "$REDIS_PID" "$setup" $args >>"$WORK/r"
        # shellcheck disable=SC2086
        run "$TESSERA_PORT" "$TESSERA_PID" "$setup" $args >>"$WORK/t"
    done
    r_rps=$(awk '{print $1}' "$WORK/r" | median); t_rps=$(awk '{print $1}' "$WORK/t" | median)
    r_p50=$(awk '{print $2}' "$WORK/r" | median); t_p50=$(awk '{print $2}' "$WORK/t" | median)
    r_p99=$(awk '{print $3}' "$WORK/r" | median); t_p99=$(awk '{print $3}' "$WORK/t" | median)
    r_cpu=$(awk '{print $4}' "$WORK/r" | median); t_cpu=$(awk '{print $4}' "$WORK/t" | median)
    ratio=$(awk -v a="$t_rps" -v b="$r_rps" 'BEGIN {printf "%.2f", a / b}')
    cpu_ratio=$(awk -v a="$t_cpu" -v b="$r_cpu" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')
    RATIOS+=("$ratio")
    printf "%-10s | %12.0f %7s %7s %7.2fus | %12.0f %7s %7s %7.2fus | %6s %6s\n" "$name" "$r_rps" "$r_p50" "$r_p99" "$r_cpu" \
        "$t_rps" "$t_p50" "$t_p99" "$t_cpu" "$ratio" "$cpu_ratio"
done
echo "median throughput ratio tessera/redis: $(printf '%s\n' "${RATIOS[@]}" | median)"
