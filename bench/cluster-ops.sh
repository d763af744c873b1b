#!/usr/bin/env bash
# Cluster operations side by side, redis-server nodes vs Tessera nodes, each a fresh cluster of 3 masters + 3
# replicas (cluster-node-timeout TIMEOUT ms) formed by redis-cli --cluster create:
#   reshard  - KEYS keys of 100 bytes are put on the first master (DEBUG POPULATE), then redis-cli --cluster reshard
#              moves SLOTS of its slots to the second master (--cluster-pipeline 100); reports keys moved per second.
#   failover - the first master is killed (SIGKILL); reports the ms until its replica answers ROLE as master and
#              until another master reports cluster_state:ok again.
# Median of ROUNDS for each.
#
#   bench/cluster-ops.sh                      # 500,000 keys, 1200 slots, 2000 ms node timeout, 3 rounds
#   KEYS=1000000 ROUNDS=5 KINDS=tessera bench/cluster-ops.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

KEYS=${KEYS:-500000}
SLOTS=${SLOTS:-1200}
TIMEOUT=${TIMEOUT:-2000}
ROUNDS=${ROUNDS:-3}
KINDS=${KINDS:-redis tessera}
use_work_dir

now_ms() { date +%s%3N; }

# cluster KIND: starts six nodes and forms the cluster; prints their ports.
cluster() {
    local ports=() endpoints=() port
    for i in 1 2 3 4 5 6; do
        port=$(start_server "$1" 0-1 "$1-$RANDOM-$i" --cluster-enabled yes --cluster-node-timeout "$TIMEOUT" \
            --enable-debug-command yes --repl-diskless-sync-delay 0)
        ports+=("$port")
        endpoints+=("127.0.0.1:$port")
    done
    redis-cli --cluster create "${endpoints[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
    for port in "${ports[@]}"; do
        until redis-cli -p "$port" CLUSTER INFO | grep -q cluster_state:ok; do sleep 0.1; done
    done
    echo "${ports[@]}"
}

# pid_of PORT: the process serving there (redis-server rewrites its command line, so ask it).
pid_of() { redis-cli -p "$1" INFO server | tr -d '\r' | sed -n 's/^process_id://p'; }

reshard() {
    local ports from to before after begin end
    read -r -a ports <<<"$(cluster "$1")"
    from=$(redis-cli -p "${ports[0]}" CLUSTER MYID)
    to=$(redis-cli -p "${ports[1]}" CLUSTER MYID)
    redis-cli -p "${ports[0]}" DEBUG POPULATE "$KEYS" key 100 >/dev/null
    before=$(redis-cli -p "${ports[1]}" DBSIZE)
    begin=$(now_ms)
    redis-cli --cluster reshard "127.0.0.1:${ports[0]}" --cluster-from "$from" --cluster-to "$to" \
        --cluster-slots "$SLOTS" --cluster-yes --cluster-pipeline 100 >/dev/null
    end=$(now_ms)
    after=$(redis-cli -p "${ports[1]}" DBSIZE)
    echo "$(( (after - before) * 1000 / (end - begin) ))"
}

failover() {
    local ports master replica begin promoted ok
    read -r -a ports <<<"$(cluster "$1")"
    master=${ports[0]}
    replica=""
    # The replica's role reaches its master with its next ping.
    until [ -n "$replica" ]; do
        replica=$(redis-cli -p "$master" CLUSTER REPLICAS "$(redis-cli -p "$master" CLUSTER MYID)" | head -n 1 | cut -d' ' -f2 | cut -d@ -f1 | cut -d: -f2)
        sleep 0.1
    done
    until redis-cli -p "$replica" INFO replication | grep -q master_link_status:up; do sleep 0.1; done
    begin=$(now_ms)
    kill -9 "$(pid_of "$master")"
    until [ "$(redis-cli -p "$replica" ROLE 2>/dev/null | head -n 1)" = master ]; do sleep 0.02; done
    promoted=$(now_ms)
    until redis-cli -p "${ports[1]}" CLUSTER INFO | grep -q cluster_state:ok; do sleep 0.02; done
    ok=$(now_ms)
    echo "$((promoted - begin)) $((ok - begin))"
}

stop_all() { xargs -r kill <"$WORK/pids" 2>/dev/null || true; : >"$WORK/pids"; sleep 0.5; }

for kind in $KINDS; do
    rates=() promoted=() recovered=()
    for _ in $(seq "$ROUNDS"); do
        rates+=("$(reshard "$kind")"); stop_all
        echo "  $kind reshard round: ${rates[-1]} keys/s" >&2
        read -r p o <<<"$(failover "$kind")"; stop_all
        promoted+=("$p"); recovered+=("$o")
    done
    echo "$kind: reshard $(printf '%s\n' "${rates[@]}" | median) keys/s ($SLOTS slots of $KEYS keys' node)," \
        "failover: replica master after $(printf '%s\n' "${promoted[@]}" | median) ms," \
        "cluster ok after $(printf '%s\n' "${recovered[@]}" | median) ms (node timeout $TIMEOUT ms; rounds: ${rates[*]} / ${promoted[*]})"
done
