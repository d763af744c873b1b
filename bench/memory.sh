#!/usr/bin/env bash
# Memory per key, side by side: RSS growth of redis-server and Tessera after loading the same keys through
# redis-cli --pipe (the normal SET path). Default: 1,000,000 keys "key:<n>" with 16-byte values.
#
#   bench/memory.sh                       # 1000000 keys, 16-byte values
#   KEYS=200000 VALUE_SIZE=100 bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-16}
TESSERA=src/Tessera.Cli/bin/Release/net10.0/tessera
dotnet build src/Tessera.Cli -c Release -v quiet -nologo >/dev/null

WORK=$(mktemp -d)
REDIS_PORT=$(shuf -i 20000-40000 -n 1)
TESSERA_PORT=$(shuf -i 40001-60000 -n 1)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >/dev/null 2>&1 &
REDIS_PID=$!
"$TESSERA" server --port "$TESSERA_PORT" --bind 127.0.0.1 --save "" --dir "$WORK" >/dev/null 2>&1 &
TESSERA_PID=$!
trap 'kill $REDIS_PID $TESSERA_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for port in "$REDIS_PORT" "$TESSERA_PORT"; do
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

awk -v n="$KEYS" -v size="$VALUE_SIZE" 'BEGIN {
    value = sprintf("%0" size "d", 0);
    for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\n%s\r\n", length("key:" i), i, size, value }' >"$WORK/load"

rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
measure() {
    local port=$1 pid=$2 before after
    sleep 1
    before=$(rss "$pid")
    redis-cli -p "$port" --pipe <"$WORK/load" >/dev/null
    sleep 3
    after=$(rss "$pid")
    echo "$(( (after - before) / KEYS ))"
}
redis_per_key=$(measure "$REDIS_PORT" "$REDIS_PID")
tessera_per_key=$(measure "$TESSERA_PORT" "$TESSERA_PID")
echo "keys: $KEYS, value size: $VALUE_SIZE"
echo "redis-server: $redis_per_key bytes/key (RSS growth)"
echo "tessera:      $tessera_per_key bytes/key (RSS growth)"
awk -v t="$tessera_per_key" -v r="$redis_per_key" 'BEGIN {printf "ratio tessera/redis: %.2f\n", t / r}'
