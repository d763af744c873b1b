#!/usr/bin/env bash
# Partial resynchronization throughput, side by side: a replica is stopped (SIGSTOP) while its master takes
# WRITES SETs of 100-byte values; the master drops the stalled link at a 1 MB output limit, so the gap stays in its
# backlog. On SIGCONT the replica reconnects and continues (+CONTINUE); the time from the master accepting that
# partial resync to the replica's offset reaching the master's gives MB/s. Pairs: redis->redis, tessera->tessera,
# tessera->redis, redis->tessera. Masters on CPU 1, replicas on CPU 0; median of ROUNDS.
#
#   bench/replication-catchup.sh                  # 1,000,000 writes (~50 MB of stream), 3 rounds
#   WRITES=2000000 ROUNDS=5 PAIRS="redis:redis redis:tessera" bench/replication-catchup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

WRITES=${WRITES:-1000000}
ROUNDS=${ROUNDS:-3}
use_work_dir

MASTER_OPTIONS=(--repl-diskless-sync-delay 0 --repl-backlog-size 512mb --client-output-buffer-limit "replica 1mb 0 0")

field() { redis-cli -p "$1" INFO "$2" | tr -d '\r' | sed -n "s/^$3://p"; }

# catchup MASTER_KIND REPLICA_KIND: one round, prints MB/s of stream replayed.
catchup() {
    local master replica pid partial begin end start target
    master=$(start_server "$1" 1 "m$RANDOM" "${MASTER_OPTIONS[@]}")
    replica=$(start_server "$2" 0 "r$RANDOM" --replicaof 127.0.0.1 "$master")
    pid=$(tail -n 1 "$WORK/pids")
    until [ "$(field "$replica" replication master_link_status)" = up ]; do sleep 0.05; done
    # Streaming (a diskless sync's stream starts at the replica's first ACK) before the replica stops.
    # (one connection: WAIT waits for that connection's last write)
    printf 'SET warm-up 1\nWAIT 1 5000\n' | redis-cli -p "$master" >/dev/null
    start=$(field "$master" replication master_repl_offset)
    kill -STOP "$pid"
    taskset -c 0 redis-benchmark -p "$master" -t set -n "$WRITES" -r 100000 -d 100 -P 16 -q >/dev/null
    until [ "$(field "$master" replication connected_slaves)" = 0 ]; do sleep 0.05; done
    partial=$(field "$master" stats sync_partial_ok)
    target=$(field "$master" replication master_repl_offset)
    kill -CONT "$pid"
    until [ "$(field "$master" stats sync_partial_ok)" != "$partial" ]; do sleep 0.002; done
    begin=$(date +%s.%N)
    until [ "$(field "$replica" replication slave_repl_offset)" -ge "$target" ]; do sleep 0.002; done
    end=$(date +%s.%N)
    # The replica had received at most the 1 MB output limit before the link dropped: the rest came partially.
    echo "($target - $start) / 1048576 / ($end - $begin)" | bc -l
    redis-cli -p "$replica" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    redis-cli -p "$master" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
}

# Rounds of the pairs interleave, so a noisy stretch of this shared machine hits all of them alike.
PAIRS=${PAIRS:-"redis:redis tessera:tessera tessera:redis redis:tessera"}
for _ in $(seq "$ROUNDS"); do
    for pair in $PAIRS; do
        catchup "${pair%:*}" "${pair#*:}" >>"$WORK/$pair"
    done
done
for pair in $PAIRS; do
    printf 'partial resync %-8s -> %-8s: %7.1f MB/s (median of %s)\n' "${pair%:*}" "${pair#*:}" "$(median <"$WORK/$pair")" "$ROUNDS"
done
