#!/usr/bin/env bash
# Full resynchronization of KEYS keys, side by side: a redis-server replica syncing from a redis-server master,
# then from a Tessera master, and a Tessera replica syncing from the redis-server master. Masters are pinned to
# CPU 1, replicas to CPU 0, all with repl-diskless-sync-delay 0 (redis would otherwise wait 5 s for more
# replicas); prints the seconds from REPLICAOF to master_link_status:up, median of ROUNDS.
#
#   bench/replication-sync.sh                 # 1,000,000 keys, 3 rounds
#   KEYS=2000000 ROUNDS=5 bench/replication-sync.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-3}
use_work_dir

# start KIND CPU NAME: a server for this benchmark (see start_server), prints its port.
start() { start_server "$1" "$2" "$3" --enable-debug-command yes --repl-diskless-sync-delay 0; }

# sync_seconds REPLICA_PORT MASTER_PORT: one full resynchronization, timed.
sync_seconds() {
    local replica=$1 master=$2 begin
    begin=$(date +%s.%N)
    redis-cli -p "$replica" REPLICAOF 127.0.0.1 "$master" >/dev/null
    until redis-cli -p "$replica" INFO replication | grep -q '^master_link_status:up'; do sleep 0.02; done
    echo "$(date +%s.%N) - $begin" | bc
    redis-cli -p "$replica" REPLICAOF NO ONE >/dev/null
    redis-cli -p "$replica" FLUSHALL >/dev/null
}

REDIS_MASTER=$(start redis 1 redis-master)
TESSERA_MASTER=$(start tessera 1 tessera-master)
REDIS_REPLICA=$(start redis 0 redis-replica)
TESSERA_REPLICA=$(start tessera 0 tessera-replica)
for port in "$REDIS_MASTER" "$TESSERA_MASTER"; do
    redis-cli -p "$port" DEBUG POPULATE "$KEYS" key 100 >/dev/null
done

: >"$WORK/rr"; : >"$WORK/tr"; : >"$WORK/rt"
for _ in $(seq "$ROUNDS"); do
    sync_seconds "$REDIS_REPLICA" "$REDIS_MASTER" >>"$WORK/rr"
    sync_seconds "$REDIS_REPLICA" "$TESSERA_MASTER" >>"$WORK/tr"
    sync_seconds "$TESSERA_REPLICA" "$REDIS_MASTER" >>"$WORK/rt"
done
printf 'full sync of %s keys (median of %s): redis->redis %.2f s, tessera->redis %.2f s, redis->tessera %.2f s\n' \
    "$KEYS" "$ROUNDS" "$(median <"$WORK/rr")" "$(median <"$WORK/tr")" "$(median <"$WORK/rt")"
