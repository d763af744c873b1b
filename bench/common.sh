# Shared by the side-by-side scripts (sourced, from the repository root): checks the tools, builds Tessera, and
# small helpers. Defines TESSERA, the built executable.
TESSERA=src/Tessera.Cli/bin/Release/net10.0/tessera

for tool in redis-server redis-benchmark redis-cli taskset bc; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install redis-server redis-tools util-linux bc)"; exit 1; }
done
dotnet build src/Tessera.Cli -c Release -v quiet -nologo >/dev/null

# A free loopback port.
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null \
    || shuf -i 20000-60000 -n 1; }

# A free loopback port whose cluster bus port (+10000) is free and below 65536 too, for cluster-enabled nodes.
free_cluster_port() {
    python3 -c '
import socket, random
while True:
    p = random.randint(20000, 30000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass'
}

# The median of the numbers on standard input, one per line.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# use_work_dir: sets WORK to a new temporary directory, removed on exit after every server start_server started
# there is stopped (resumed first, in case a benchmark left it stopped with SIGSTOP).
use_work_dir() {
    WORK=$(mktemp -d)
    : >"$WORK/pids"
    trap 'xargs -r kill -CONT <"$WORK/pids" 2>/dev/null || true; xargs -r kill <"$WORK/pids" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

# start_server KIND CPU NAME [OPTION...]: starts redis-server or Tessera (KIND redis|tessera) pinned to CPU, with
# its directory and log under $WORK/NAME, its process id appended to $WORK/pids (a file: callers run this in a
# command substitution's subshell, where a shell array would be lost); prints its port once it answers PING.
start_server() {
    local kind=$1 cpu=$2 name=$3 port
    shift 3
    if [[ " $* " == *" --cluster-enabled yes "* ]]; then port=$(free_cluster_port); else port=$(free_port); fi
    mkdir -p "$WORK/$name"
    if [ "$kind" = redis ]; then
        taskset -c "$cpu" redis-server --port "$port" --bind 127.0.0.1 --save "" --dir "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 &
    else
        taskset -c "$cpu" "$TESSERA" server --port "$port" --bind 127.0.0.1 --save "" --dir "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 &
    fi
    echo $! >>"$WORK/pids"
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "$port"
}
