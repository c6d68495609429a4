#!/usr/bin/env bash
# How many client connections one gateway holds, and what they cost in memory: the built gateway
# (defaults: http_provider portal, one plain upstream, no plugins) in front of BenchBackend; N idle
# keep-alive clients each send one request and then stay connected. Reports the gateway's RSS
# (VmRSS) before and after, per connection, and whether every client got its answer and kept its
# connection (a second request on each). Loopback only.
#
# Usage: bench/run-connections.sh [--dist DIR] [--bench-jar FILE] [--clients "1000 5000"] [--out DIR]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fail() { echo "run-connections: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
DIST=$REPO/dist
BENCH_JAR=$REPO/bench/target/benchmarks.jar
CLIENTS="1000 5000"
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-connections: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$REPO/bench/results/connections-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
pick_jdk
trap cleanup EXIT
start_bench_backend 3600
backend_port=$BACKEND_PORT

printf '| clients | answered | kept alive | RSS before MiB | RSS after MiB | KiB per connection |\n|---:|---:|---:|---:|---:|---:|\n' > "$OUT/summary.md"
for n in $CLIENTS; do
  free_port; port=$REPLY
  free_port; admin=$REPLY
  cat > "$OUT/gateway-$n.yaml" <<YAML
server:
  listen: "127.0.0.1:$port"
  admin_listen: "127.0.0.1:$admin"
  access_log: false
  plugins_dir: "$OUT/empty-plugins"
  data_dir: "$OUT/data-$n"
relay:
  enabled: false
upstreams:
  backend: "http://127.0.0.1:$backend_port"
YAML
  mkdir -p "$OUT/empty-plugins"
  "$JAVA" -jar "$DIST/portal-gateway.jar" --config "$OUT/gateway-$n.yaml" > "$OUT/gateway-$n.log" 2>&1 &
  gw=$!
  STARTED_PIDS+=("$gw")
  wait_for_match "$OUT/gateway-$n.log" "Portal Gateway is serving" 60 "$gw" || fail "the gateway did not start"
  python3 - "$port" "$n" "$gw" "$OUT/result-$n.txt" <<'PY'
import socket, sys, time
port, n, pid, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def exchange(s):
    s.sendall(b"GET /peer/backend/x HTTP/1.1\r\nHost: gw\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            return False
        rest += chunk
    return head.startswith(b"HTTP/1.1 200")
warm = socket.create_connection(("127.0.0.1", port))
for _ in range(2000):
    exchange(warm)
warm.close()
time.sleep(2)
before = rss()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(60)
    socks.append(s)
answered = sum(1 for s in socks if exchange(s))
time.sleep(3)
after = rss()
kept = sum(1 for s in socks if exchange(s))
for s in socks:
    s.close()
with open(out, "w") as f:
    f.write(f"{n} {answered} {kept} {before} {after}\n")
PY
  read -r clients answered kept before after < "$OUT/result-$n.txt"
  kill "$gw"; wait "$gw" 2>/dev/null || true
  forget_pid "$gw"
  per=$(( (after - before) / clients ))
  printf '| %s | %s | %s | %s | %s | %s |\n' "$clients" "$answered" "$kept" "$((before / 1024))" "$((after / 1024))" "$per" >> "$OUT/summary.md"
done
cat "$OUT/summary.md"
