#!/usr/bin/env bash
# Memory side by side: RSS growth of redis-server and Tessera after loading the same data through
# redis-cli --pipe, each on a fresh server warmed up with a slice of the same commands in another database.
# Datasets:
#   strings  1,000,000 keys "key:<n>" with VALUE_SIZE-byte values (default 16)
#   hashes   100,000 hashes of 10 small fields
#   zset     one sorted set of 1,000,000 members
#   lists    1,000 lists of 1,000 elements
#
#   bench/memory.sh                       # every dataset
#   DATASETS="hashes zset" bench/memory.sh
#   KEYS=200000 VALUE_SIZE=100 DATASETS=strings bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DATASETS=${DATASETS:-strings hashes zset lists}
KEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-16}
TESSERA=src/Tessera.Cli/bin/Release/net10.0/tessera
dotnet build src/Tessera.Cli -c Release -v quiet -nologo >/dev/null

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# load DATASET > file of RESP commands; prints the number of items the dataset counts in
load() {
    case $1 in
        strings) awk -v n="$KEYS" -v size="$VALUE_SIZE" 'BEGIN {
            value = sprintf("%0" size "d", 0);
            for (i = 0; i < n; i++) printf "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\n%s\r\n", length("key:" i), i, size, value }' ;;
        hashes) awk 'BEGIN {
            for (i = 0; i < 100000; i++) {
                key = "hash:" i; printf "*22\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n", length(key), key;
                for (f = 0; f < 10; f++) { field = "field" f; value = "v" (i * 10 + f);
                    printf "$%d\r\n%s\r\n$%d\r\n%s\r\n", length(field), field, length(value), value } } }' ;;
        zset) awk 'BEGIN {
            for (i = 0; i < 1000000; i += 100) {
                printf "*202\r\n$4\r\nZADD\r\n$4\r\nzset\r\n";
                for (j = i; j < i + 100; j++) { score = (j * 7919) % 1000003; member = "member:" j;
                    printf "$%d\r\n%d\r\n$%d\r\n%s\r\n", length(score ""), score, length(member), member } } }' ;;
        lists) awk 'BEGIN {
            for (i = 0; i < 1000; i++) { key = "list:" i;
                for (j = 0; j < 1000; j += 100) {
                    printf "*102\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n", length(key), key;
                    for (k = j; k < j + 100; k++) { value = "element-" k; printf "$%d\r\n%s\r\n", length(value), value } } } }' ;;
    esac
}
items() { case $1 in strings) echo "$KEYS" ;; hashes) echo 1000000 ;; zset) echo 1000000 ;; lists) echo 1000000 ;; esac; }
unit() { case $1 in strings) echo key ;; hashes) echo field ;; zset) echo member ;; lists) echo element ;; esac; }

rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }

# measure DATASET SERVER -> RSS growth in bytes, on a fresh server
measure() {
    local dataset=$1 server=$2 port pid before after
    port=$(shuf -i 20000-60000 -n 1)
    if [ "$server" = redis ]; then
        redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >/dev/null 2>&1 &
    else
        "$TESSERA" server --port "$port" --bind 127.0.0.1 --save "" --dir "$WORK" >/dev/null 2>&1 &
    fi
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    # Warm up on database 1 with the first commands of the load, so code compiled and mapped on first use
    # (Tessera's JIT, either server's first pages) is not counted as data.
    { printf '*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n'; awk '/^\*/ {n++} n > 200 {exit} {print}' "$WORK/$dataset.load"; } \
        | redis-cli -p "$port" --pipe >/dev/null
    sleep 2
    before=$(rss "$pid")
    redis-cli -p "$port" --pipe <"$WORK/$dataset.load" >/dev/null
    sleep 3
    after=$(rss "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo $((after - before))
}

printf "%-8s | %14s %10s | %14s %10s | %6s\n" dataset "redis growth" "per item" "tessera growth" "per item" ratio
for dataset in $DATASETS; do
    load "$dataset" >"$WORK/$dataset.load"
    n=$(items "$dataset")
    r=$(measure "$dataset" redis)
    t=$(measure "$dataset" tessera)
    awk -v d="$dataset" -v r="$r" -v t="$t" -v n="$n" -v u="$(unit "$dataset")" 'BEGIN {
        printf "%-8s | %12.1fMB %8.1fB/%s | %12.1fMB %8.1fB/%s | %6.2f\n", d, r / 1048576, r / n, u, t / 1048576, t / n, u, t / r }'
done
