#!/usr/bin/env bash
# Runs every test on a fresh Debian machine with the .NET 10 SDK: installs redis-server and redis-tools when they
# are missing (the oracle tests compare against them), restores, builds, runs all test projects, and ends with a
# plain "N passed, N failed" line. Exits non-zero when anything fails.
set -uo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "Installing redis-server and redis-tools (the oracle for compatibility tests)..."
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null || {
        echo "could not install redis-server/redis-tools"; echo "0 passed, 1 failed"; exit 1; }
fi

# The client-library tests run redis-py (Debian's python3-redis) and ioredis (npm, pinned in tests/clients/node).
if ! /usr/bin/python3 -c "import redis" >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Installing python3-redis and Node.js (cluster client-library tests)..."
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    packages="python3-redis"
    command -v npm >/dev/null 2>&1 || packages="$packages nodejs npm"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $packages >/dev/null || {
        echo "could not install $packages"; echo "0 passed, 1 failed"; exit 1; }
fi
(cd tests/clients/node && npm ci --no-audit --no-fund --silent) || { echo "could not install ioredis"; echo "0 passed, 1 failed"; exit 1; }

dotnet restore Tessera.slnx || { echo "0 passed, 1 failed"; exit 1; }
dotnet build Tessera.slnx -c Release --no-restore -warnaserror || { echo "0 passed, 1 failed"; exit 1; }

rm -rf TestResults
dotnet test Tessera.slnx -c Release --no-build --logger trx --results-directory TestResults
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
