#!/usr/bin/env bash
# RDB load speed, redis-server and Tessera side by side: redis-server writes a snapshot of KEYS string keys
# (DEBUG POPULATE) plus a few thousand small lists, sets, sorted sets and hashes, then each server (pinned to
# CPU 1) starts on a copy of it ROUNDS times; prints each server's median load time from its own log line
# ("DB loaded from disk: N seconds") and the Tessera/redis ratio.
#
#   bench/load-speed.sh                      # 1,000,000 keys, 3 rounds
#   KEYS=2000000 ROUNDS=5 bench/load-speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-1}
source bench/common.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PORT=$(free_port)
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --dir "$WORK" --enable-debug-command yes --daemonize yes --logfile "$WORK/make.log"
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" DEBUG POPULATE "$KEYS" >/dev/null
for i in $(seq 1000); do
    printf 'RPUSH list:%d a b c d\nSADD set:%d 1 2 3 x\nZADD zset:%d 1 a 2 b\nHSET hash:%d f v g w\n' "$i" "$i" "$i" "$i"
done | redis-cli -p "$PORT" >/dev/null
redis-cli -p "$PORT" SAVE >/dev/null
redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
echo "snapshot: $(stat -c %s "$WORK/dump.rdb") bytes, $KEYS strings + 4000 small collections"

# Seconds one start-up took to load the snapshot, from the server's own log.
load_once() {
    local kind=$1 port log
    port=$(free_port)
    log="$WORK/$kind.log"
    if [ "$kind" = redis ]; then
        taskset -c "$SERVER_CPU" redis-server --port "$port" --bind 127.0.0.1 --save "" --dir "$WORK" >"$log" 2>&1 &
    else
        taskset -c "$SERVER_CPU" "$TESSERA" server --port "$port" --bind 127.0.0.1 --save "" --dir "$WORK" >"$log" 2>&1 &
    fi
    local pid=$!
    until grep -q "DB loaded from disk" "$log" 2>/dev/null; do sleep 0.05; done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "$log"
}

: >"$WORK/r"; : >"$WORK/t"
for _ in $(seq "$ROUNDS"); do
    load_once redis >>"$WORK/r"
    load_once tessera >>"$WORK/t"
done
r=$(median <"$WORK/r"); t=$(median <"$WORK/t")
echo "median load: redis ${r}s, tessera ${t}s, ratio $(echo "scale=2; $t / $r" | bc)"
