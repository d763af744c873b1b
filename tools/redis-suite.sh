#!/usr/bin/env bash
# Runs Redis 7.0.15's own test suite (tests/ of Debian's redis source package) in its external-server mode against
# a Tessera node, one test file at a time on a fresh node each, and prints a line per file: passed, failed, and
# whether the file ended early (an exception) or the node died. Not part of CI: it takes a long time.
#   tools/redis-suite.sh [unit/type/zset unit/scripting ...]     (default: every unit/ file the suite lists)
# SUITE_DIR picks the unpacked source (default: ../redis-src/redis-7.0.15 beside the repository), SUITE_TAGS the tag
# filter (default: -slow), SUITE_LOGS where each file's output goes.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
suite=${SUITE_DIR:-$repo/../redis-src/redis-7.0.15}
logs=${SUITE_LOGS:-/tmp/redis-suite}
tags=${SUITE_TAGS:--slow}
port=${SUITE_PORT:-6390}

if [ ! -f "$suite/tests/test_helper.tcl" ]; then
    # Debian's source package is Redis 7.0.15 with its tests; apt needs deb-src lines for it.
    mkdir -p "$(dirname "$suite")" && (cd "$(dirname "$suite")" && apt-get source --download-only redis >/dev/null \
        && tar xzf redis_7.0.15.orig.tar.gz) || { echo "could not fetch the redis source package (deb-src missing?)"; exit 1; }
fi
command -v tclsh >/dev/null || apt-get install -y -qq tcl >/dev/null

# A private copy of the executable, so rebuilding the tree meanwhile does not change the nodes under test.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
dotnet publish src/Tessera.Cli -c Release -o "$bin" -v q -nologo >/dev/null || exit 1
tessera=$bin/tessera

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(sed -n '/^set ::all_tests {/,/^}/p' "$suite/tests/test_helper.tcl" | grep -o 'unit/[^ ]*')
fi
mkdir -p "$logs"
for file in "${files[@]}"; do
    name=${file//\//_}
    dir=$(mktemp -d)
    (cd "$dir" && exec "$tessera" server --port "$port" --enable-debug-command yes --save "" >"$logs/$name.node" 2>&1) &
    node=$!
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    (cd "$suite" && timeout 900 tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" --single "$file" \
        --tags "$tags" --timeout 120 >"$logs/$name.log" 2>&1)
    sed -i 's/\x1b\[[0-9;]*m//g' "$logs/$name.log"
    ok=$(grep -c '\[ok\]' "$logs/$name.log")
    err=$(grep -c '\[err\]' "$logs/$name.log")
    ended=""
    grep -q '\[exception\]' "$logs/$name.log" && ended=" (exception)"
    grep -q 'Timed out\|timed out' "$logs/$name.log" && ended="$ended (timeout)"
    kill -0 "$node" 2>/dev/null || ended="$ended (node died)"
    printf '%-32s %4d ok %4d err%s\n' "$file" "$ok" "$err" "$ended"
    kill "$node" 2>/dev/null; wait "$node" 2>/dev/null
    rm -rf "$dir"
done
