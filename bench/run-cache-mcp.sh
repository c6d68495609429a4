#!/usr/bin/env bash
# Latency of an MCP answer from the cache-mcp plugin's cache (a hit) against one that goes
# through a Portal relay to the MCP server (a miss), in the same run, one request at a time.
# Everything runs on loopback as separate processes: McpBenchServer (a small MCP server), a
# development relay, a development tunnel exposing the server as lease "mcp", and the gateway
# with `plugins: cache-mcp: {}` and no upstream named "mcp", so /peer/mcp/ is the lease.
#
# Usage: bench/run-cache-mcp.sh [--dist DIR] [--bench-jar FILE] [--warmup 2000] [--samples 5000]
#          [--block 50] [--list-miss on|off] [--direct on|off] [--out DIR]
#
#   --dist DIR        a laid-out dist/ with portal-gateway.jar and plugins/cache-mcp.jar (default
#                     dist/; build it first with ./mvnw -q package -DskipTests, which also builds
#                     the bench jar)
#   --bench-jar FILE  McpBenchServer and McpLatency (default bench/target/benchmarks.jar)
#   --warmup N        requests of each kind before measuring (default 2000)
#   --samples N       measured requests of each kind (default 5000)
#   --block N         requests of one kind in a row before the next kind (default 50)
#   --list-miss on    also measure tools/list as a miss: each one right after a purge of the
#                     lease's entries on the admin listener (default on)
#   --direct on       also measure tools/list and tools/call straight at the MCP server (default on)
#
# Results land in bench/results/cache-mcp-TIMESTAMP/ (or --out): summary.md, results.tsv,
# machine.txt, latency.txt (McpLatency's output), latencies.txt (every measured latency in
# order, "KIND NANOSECONDS"), the generated gateway.yaml, the gateway's log
# and /metrics snapshot, and the server, relay and tunnel logs. Exit status 1 when anything
# failed: an answer that was not 200, not byte for byte the server's, or whose X-Cache was not
# the expected one, a process that did not start, or a lease that never answered.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=$REPO/dist
BENCH_JAR=""
WARMUP=2000
SAMPLES=5000
BLOCK=50
LIST_MISS=on
DIRECT=on
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --samples) SAMPLES=$2; shift 2 ;;
    --block) BLOCK=$2; shift 2 ;;
    --list-miss) LIST_MISS=$2; shift 2 ;;
    --direct) DIRECT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-cache-mcp: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-cache-mcp: $*" >&2; exit 1; }

source "$REPO/bench/lib.sh"
pick_jdk

BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
[[ -f "$DIST/portal-gateway.jar" ]] || fail "$DIST/portal-gateway.jar is missing; build with ./mvnw -q package -DskipTests"
[[ -f "$DIST/plugins/cache-mcp.jar" ]] || fail "$DIST/plugins/cache-mcp.jar is missing; build with ./mvnw -q package -DskipTests"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"
GATEWAY_JAR=$DIST/portal-gateway.jar

OUT=${OUT:-$REPO/bench/results/cache-mcp-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/plugins" "$OUT/data"
# Only cache-mcp in the plugins directory: the gateway loads what the config names, but this
# way nothing else can be involved.
cp "$DIST/plugins/cache-mcp.jar" "$OUT/plugins/"

trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "${BENCH_SOURCE:-unknown}")"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "warmup: $WARMUP, samples: $SAMPLES per kind, block: $BLOCK, list-miss: $LIST_MISS, direct: $DIRECT"
  # Anything already busy on the machine competes with the run: say how much there is.
  b0=$(busy_ticks); sleep 3; b1=$(busy_ticks)
  echo "machine busy before the run: $(seconds "$b0" "$b1") CPU-seconds in 3 s (of $(( 3 * $(nproc) )))"
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

# The MCP server: port 0, it says which one it took.
"$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.McpBenchServer 0 --max-lifetime 1h > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
STARTED_PIDS+=("$SERVER_PID")
wait_for_match "$OUT/server.log" "^LISTENING [0-9]" 20 "$SERVER_PID" \
  || fail "McpBenchServer did not start: $(tail -5 "$OUT/server.log")"
MCP_PORT=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$OUT/server.log" | head -1)
echo "MCP server on 127.0.0.1:$MCP_PORT"

start_relay_and_tunnel mcp "$MCP_PORT"
echo "relay at $RELAY_URL"
grep "^Lease 'mcp'" "$OUT/tunnel.log"

free_port; PORT=$REPLY
free_port; ADMIN=$REPLY
cat > "$OUT/gateway.yaml" <<EOF
server:
  listen: "127.0.0.1:$PORT"
  admin_listen: "127.0.0.1:$ADMIN"
  access_log: false
  plugins_dir: "$OUT/plugins"
  data_dir: "$OUT/data"
  shutdown_grace: 5s
relay:
  url: "$RELAY_URL"
plugins:
  cache-mcp: {}
EOF
"$JAVA" -jar "$GATEWAY_JAR" --config "$OUT/gateway.yaml" > "$OUT/gateway.log" 2>&1 &
GW_PID=$!
STARTED_PIDS+=("$GW_PID")

# /readyz is 200 once the gateway has a relay session; then the lease must answer an MCP ping.
ready=""
for _ in $(seq 1 150); do
  if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$ADMIN/readyz" || true) == 200 ]]; then
    ready=1; break
  fi
  kill -0 "$GW_PID" 2>/dev/null || break
  sleep 0.2
done
[[ -n "$ready" ]] || fail "the gateway never answered /readyz 200: $(tail -5 "$OUT/gateway.log")"
URL="http://127.0.0.1:$PORT/peer/mcp/mcp"
probe=""
for _ in $(seq 1 100); do
  probe=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0","id":0,"method":"ping"}' || true)
  [[ "$probe" == 200 ]] && break
  kill -0 "$GW_PID" 2>/dev/null || break
  sleep 0.2
done
[[ "$probe" == 200 ]] || fail "$URL never answered an MCP ping with 200 (last: $probe): $(tail -5 "$OUT/gateway.log")"
grep -q '"logger":"plugin.cache-mcp","msg":"cache active"' "$OUT/gateway.log" \
  || fail "the gateway did not log that cache-mcp is active: $(head -5 "$OUT/gateway.log")"
echo "gateway on 127.0.0.1:$PORT (admin $ADMIN); lease mcp answers on $URL"

rm -f "$OUT/latencies.txt"
latency_args=(--url "$URL" --warmup "$WARMUP" --samples "$SAMPLES" --block "$BLOCK" --raw "$OUT/latencies.txt")
[[ "$LIST_MISS" == on ]] && latency_args+=(--purge-url "http://127.0.0.1:$ADMIN/plugins/cache-mcp/purge?lease=mcp")
[[ "$DIRECT" == on ]] && latency_args+=(--direct-url "http://127.0.0.1:$MCP_PORT/mcp")
"$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.McpLatency "${latency_args[@]}" > "$OUT/latency.txt" 2>&1 &
LAT_PID=$!
STARTED_PIDS+=("$LAT_PID")
# CPU time of every process over the gateway's measured phase, and of the whole machine.
PIDS=("$GW_PID" "$RELAY_PID" "$TUNNEL_PID" "$SERVER_PID")
NAMES=(gateway relay tunnel server)
before=() after=() all_before="" all_after=""
if wait_for_match "$OUT/latency.txt" "^MEASURING gateway" 240 "$LAT_PID"; then
  for i in 0 1 2 3; do before[i]=$(cpu_ticks "${PIDS[i]}"); done
  all_before=$(busy_ticks)
  if wait_for_match "$OUT/latency.txt" "^MEASURED gateway" 240 "$LAT_PID"; then
    for i in 0 1 2 3; do after[i]=$(cpu_ticks "${PIDS[i]}"); done
    all_after=$(busy_ticks)
  fi
fi
# It stops by itself; this bounds a hung one.
for _ in $(seq 1 2400); do
  kill -0 "$LAT_PID" 2>/dev/null || break
  sleep 0.1
done
hung=""
if kill -0 "$LAT_PID" 2>/dev/null; then
  hung=1
  kill -KILL "$LAT_PID" 2>/dev/null || true
fi
lat_rc=0
wait "$LAT_PID" 2>/dev/null || lat_rc=$?
forget_pid "$LAT_PID"
cat "$OUT/latency.txt"
[[ -z "$hung" ]] || fail "McpLatency did not finish within 4 minutes"
[[ $lat_rc == 0 ]] || fail "McpLatency failed (exit $lat_rc); see $OUT/latency.txt"

curl -fsS --max-time 5 "http://127.0.0.1:$ADMIN/metrics" > "$OUT/metrics.txt" 2>/dev/null || echo "note: /metrics failed" >&2
hits=$(awk '/^portal_gateway_cache_mcp_requests_total\{.*kind="mcp".*result="hit"/ {print $NF; exit}' "$OUT/metrics.txt" || true)

# Stop the gateway the way an operator would, and check it went cleanly.
notes=""
kill -TERM "$GW_PID" 2>/dev/null || true
stopped=""
for _ in $(seq 1 200); do
  kill -0 "$GW_PID" 2>/dev/null || { stopped=1; break; }
  sleep 0.1
done
[[ -n "$stopped" ]] || { notes+="gateway did not exit within 20 s of SIGTERM; "; kill -KILL "$GW_PID" 2>/dev/null || true; }
gw_rc=0
wait "$GW_PID" 2>/dev/null || gw_rc=$?
forget_pid "$GW_PID"
[[ $gw_rc == 0 ]] || notes+="gateway exit status $gw_rc; "
warnings=$(grep -c '"level":"\(WARNING\|ERROR\)"' "$OUT/gateway.log" || true)
[[ "$warnings" != 0 ]] && notes+="$warnings warning/error lines in the gateway log; "
while read -r n; do notes+="$n; "; done < <(sed -n 's/^NOTE //p' "$OUT/latency.txt")

# Expected hits: every tools/list of the hit kind but the first of the run.
expected_hits=$(( WARMUP + SAMPLES - 1 ))
if [[ -n "$hits" ]] && awk -v h="$hits" -v e="$expected_hits" 'BEGIN {exit !(h + 0 >= e)}'; then
  :
else
  notes+="the gateway counted ${hits:-no} MCP hits, expected at least $expected_hits; "
fi

cpu=()
others=""
if [[ -n "$all_after" ]]; then
  client_cpu=$(field client_cpu_s "$(grep '^MEASURED gateway' "$OUT/latency.txt")")
  sum=0
  for i in 0 1 2 3; do
    cpu[i]=$(seconds "${before[i]}" "${after[i]}")
    sum=$(( sum + after[i] - before[i] ))
  done
  others=$(awk -v all="$(seconds "$all_before" "$all_after")" -v ours="$(seconds 0 "$sum")" -v c="${client_cpu:-0}" \
    'BEGIN {printf "%.2f", all - ours - c}')
fi
measured_s=$(field seconds "$(grep '^MEASURED gateway' "$OUT/latency.txt" || true)")

printf '%s\n' "kind	samples	p50_ms	p90_ms	p99_ms	max_ms	mean_ms" > "$OUT/results.tsv"
grep '^RESULT ' "$OUT/latency.txt" | while read -r line; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(field kind "$line")" "$(field samples "$line")" "$(field p50_ms "$line")" \
    "$(field p90_ms "$line")" "$(field p99_ms "$line")" "$(field max_ms "$line")" "$(field mean_ms "$line")"
done >> "$OUT/results.tsv"

{
  echo "# cache-mcp: a hit against a miss through the relay"
  echo
  sed 's/^/    /' "$OUT/machine.txt"
  echo
  echo "| kind | what | samples | p50 ms | p90 ms | p99 ms | max ms | mean ms |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  tail -n +2 "$OUT/results.tsv" | awk -F'\t' '
    BEGIN {
      w["hit"] = "tools/list, X-Cache: HIT (from the cache)"
      w["miss"] = "tools/call echo, X-Cache: MISS (through the relay)"
      w["list-miss"] = "tools/list after a purge, X-Cache: MISS (through the relay)"
      w["direct-list"] = "tools/list straight at the MCP server"
      w["direct-call"] = "tools/call echo straight at the MCP server"
    }
    {printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, w[$1], $2, $3, $4, $5, $6, $7}'
  echo
  sed -n 's/^RATIO /    /p' "$OUT/latency.txt"
  echo
  # Stalls of about 40 ms are the signature of Nagle's algorithm meeting a delayed ACK.
  echo "measured requests over 10 ms and over 35 ms, by kind:" \
    "$(awk '{n[$1]++; if ($2 > 10e6) a[$1]++; if ($2 > 35e6) b[$1]++}
      END {for (k in n) printf "%s %d/%d/%d; ", k, a[k], b[k], n[k]}' "$OUT/latencies.txt" 2>/dev/null)"
  echo
  if [[ -n "$others" ]]; then
    echo "CPU seconds over the gateway's measured phase (${measured_s} s): gateway ${cpu[0]}, relay ${cpu[1]}," \
      "tunnel ${cpu[2]}, server ${cpu[3]}, client ${client_cpu:-?}, everything else on the machine $others" \
      "(of $(awk -v s="$measured_s" -v n="$(nproc)" 'BEGIN {printf "%.0f", s * n}') available)"
  fi
  echo
  echo "gateway MCP hits counted: ${hits:-?}; relay log lines: $(wc -l < "$OUT/relay.log"), tunnel log lines: $(wc -l < "$OUT/tunnel.log")"
  [[ -n "$notes" ]] && echo "notes: ${notes%; }"
} > "$OUT/summary.md"
echo
cat "$OUT/summary.md"
echo
echo "results in $OUT"
[[ -z "$notes" ]] || exit 1
