#!/usr/bin/env bash
# The cost of cluster mode on one node: the same server standalone and with cluster-enabled yes owning all 16384
# slots (so every command passes the routing step and nothing is redirected), redis-benchmark -P PIPELINE with
# random keys, interleaved rounds, servers on CPU 1 and the load generator on CPU 0. Prints per kind (redis,
# tessera) and workload the median requests/s of both modes and the cluster/standalone ratio.
#
#   bench/cluster-mode.sh                      # 5 rounds of 500,000 requests, -P 16, GET and SET
#   ROUNDS=7 PIPELINE=1 KINDS=tessera bench/cluster-mode.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-500000}
PIPELINE=${PIPELINE:-16}
KINDS=${KINDS:-redis tessera}
use_work_dir

rps() { taskset -c 0 redis-benchmark -p "$1" -t "$2" -n "$REQUESTS" -r 100000 -P "$PIPELINE" -q | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | cut -d' ' -f1; }

for kind in $KINDS; do
    standalone=$(start_server "$kind" 1 "$kind-standalone")
    cluster=$(start_server "$kind" 1 "$kind-cluster" --cluster-enabled yes)
    redis-cli -p "$cluster" CLUSTER ADDSLOTSRANGE 0 16383 >/dev/null
    until redis-cli -p "$cluster" CLUSTER INFO | grep -q cluster_state:ok; do sleep 0.1; done
    for workload in get set; do
        s=() c=()
        for round in $(seq "$ROUNDS"); do
            # Alternating which mode goes first, so neither always runs on a warmer (or busier) machine.
            if [ $((round % 2)) = 1 ]; then
                s+=("$(rps "$standalone" "$workload")")
                c+=("$(rps "$cluster" "$workload")")
            else
                c+=("$(rps "$cluster" "$workload")")
                s+=("$(rps "$standalone" "$workload")")
            fi
        done
        ms=$(printf '%s\n' "${s[@]}" | median)
        mc=$(printf '%s\n' "${c[@]}" | median)
        echo "$kind $workload: standalone $ms, cluster $mc requests/s, cluster/standalone $(echo "scale=3; $mc / $ms" | bc)"
    done
done
