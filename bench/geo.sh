#!/usr/bin/env bash
# GEOSEARCH over a large geo set, redis-server and Tessera side by side: both (pinned to CPU 1) load the same
# MEMBERS random positions through `redis-cli --pipe`, then redis-benchmark (CPU 0) runs GEOSEARCH around random
# centres (BYRADIUS 100 km, and BYBOX 200x200 km with COUNT 10 ASC) in alternating rounds; prints each server's
# median requests/s, its CPU per request, and the Tessera/redis ratios.
#
#   bench/geo.sh                          # 1,000,000 members, 3 rounds, 20,000 searches per run
#   MEMBERS=200000 ROUNDS=5 bench/geo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
MEMBERS=${MEMBERS:-1000000}
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-20000}
use_work_dir
REDIS=$(start_server redis 1 redis)
TS=$(start_server tessera 1 tessera)
python3 - "$MEMBERS" >"$WORK/load.resp" <<'PY'
import random, sys
random.seed(7)
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
n = int(sys.argv[1])
for start in range(0, n, 500):
    args = [b"GEOADD", b"places"]
    for i in range(start, min(n, start + 500)):
        args += [b"%.6f" % random.uniform(-180, 180), b"%.6f" % random.uniform(-85, 85), b"m%d" % i]
    cmd(*args)
PY
for port in $REDIS $TS; do redis-cli -p "$port" --pipe <"$WORK/load.resp" >/dev/null; done
echo "geo set: $(redis-cli -p "$REDIS" ZCARD places) members in redis, $(redis-cli -p "$TS" ZCARD places) in Tessera"
pid_of() { if [ "$1" = "$REDIS" ]; then sed -n 1p "$WORK/pids"; else sed -n 2p "$WORK/pids"; fi; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run PORT NAME ARGS...: "rps cpu_us_per_request"
run() {
    local port=$1 pid before after rps
    shift
    pid=$(pid_of "$port")
    before=$(cpu_ticks "$pid")
    rps=$(taskset -c 0 redis-benchmark -p "$port" -c 50 -n "$REQUESTS" --csv "$@" 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"')
    after=$(cpu_ticks "$pid")
    echo "$rps $(echo "scale=2; ($after - $before) * 10000 / $REQUESTS" | bc)"
}
declare -A results
for round in $(seq "$ROUNDS"); do
    for port in $REDIS $TS; do
        name=$([ "$port" = "$REDIS" ] && echo redis || echo tessera)
        results[radius-$name]+="$(run "$port" GEOSEARCH places FROMLONLAT 13.36 38.11 BYRADIUS 100 km)"$'\n'
        results[box-$name]+="$(run "$port" GEOSEARCH places FROMLONLAT -73.98 40.75 BYBOX 200 200 km COUNT 10 ASC)"$'\n'
    done
done
printf '%-8s | %12s %10s | %12s %10s | %6s %6s\n' workload "redis rps" "cpu/req" "tessera rps" "cpu/req" "rps x" "cpu x"
for w in radius box; do
    rr=$(echo -n "${results[$w-redis]}" | awk '{print $1}' | median); rc=$(echo -n "${results[$w-redis]}" | awk '{print $2}' | median)
    tr=$(echo -n "${results[$w-tessera]}" | awk '{print $1}' | median); tc=$(echo -n "${results[$w-tessera]}" | awk '{print $2}' | median)
    printf '%-8s | %12s %8sus | %12s %8sus | %6.2f %6.2f\n' "$w" "$rr" "$rc" "$tr" "$tc" "$(echo "$tr / $rr" | bc -l)" "$(echo "$tc / $rc" | bc -l)"
done
