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

# The median of the numbers on standard input, one per line.
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
