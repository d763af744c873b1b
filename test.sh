#!/usr/bin/env bash
# Runs every test on a fresh Debian machine with the .NET 10 SDK: installs the oracles and client libraries when
# they are missing (see below), restores, builds, runs all test projects, and ends with a
# plain "N passed, N failed" line. Exits non-zero when anything fails.
set -uo pipefail
cd "$(dirname "$0")"

# Oracles and client libraries, installed when missing: redis-server/redis-tools (compatibility tests), nutcracker
# (the proxy's placement oracle), redis-py (Debian's python3-redis) and Node.js for ioredis (cluster client tests).
packages=""
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || packages="$packages redis-server redis-tools"
command -v nutcracker >/dev/null 2>&1 || [ -x /usr/sbin/nutcracker ] || packages="$packages nutcracker"
/usr/bin/python3 -c "import redis" >/dev/null 2>&1 || packages="$packages python3-redis"
command -v npm >/dev/null 2>&1 || packages="$packages nodejs npm"
if [ -n "$packages" ]; then
    echo "Installing$packages..."
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $packages >/dev/null || {
        echo "could not install$packages"; echo "0 passed, 1 failed"; exit 1; }
fi
(cd tests/clients/node && npm ci --no-audit --no-fund --silent) || { echo "could not install ioredis"; echo "0 passed, 1 failed"; exit 1; }

dotnet restore Tessera.slnx || { echo "0 passed, 1 failed"; exit 1; }
dotnet build Tessera.slnx -c Release --no-restore -warnaserror || { echo "0 passed, 1 failed"; exit 1; }

rm -rf TestResults
# One test project at a time (-m:1): each already runs its tests in parallel, and the cluster, CLI and proxy
# projects start many processes; all at once on a small machine only turns timing into failures.
dotnet test Tessera.slnx -c Release --no-build -m:1 --logger trx --results-directory TestResults
status=$?

passed=0
failed=0
for trx in TestResults/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx")
    p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
    f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
