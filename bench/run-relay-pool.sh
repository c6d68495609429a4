#!/usr/bin/env bash
# Throughput and latency of a lease reached through a Portal relay, with the gateway's pool of
# end-to-end encrypted connections on (relay.max_idle_per_lease: 256, the default) and off (0: a
# new relay connection and E2EE handshake for every request). Everything runs on loopback as
# separate processes: BenchBackend, a development relay, a development tunnel exposing the
# backend as lease "bench", and the gateway, started afresh for each pool setting.
#
# Usage: bench/run-relay-pool.sh [--dist DIR] [--bench-jar FILE] [--pools "256 0"]
#          [--connections 16] [--warmup 5] [--duration 10] [--out DIR]
#
#   --dist DIR        a laid-out dist/ with portal-gateway.jar (default dist/; build it first with
#                     ./mvnw -q package -DskipTests, which also builds the bench jar)
#   --bench-jar FILE  LoadGenerator and BenchBackend (default bench/target/benchmarks.jar)
#   --pools LIST      relay.max_idle_per_lease values to run, in order (default "256 0")
#   --connections N   load generator connections (default 16)
#   --warmup/--duration  seconds per run, before and while measuring (default 5 and 10)
#
# Results land in bench/results/relay-pool-TIMESTAMP/ (or --out): summary.md, results.tsv (with
# the CPU time per request of the gateway, relay, tunnel and backend over the whole load run), and
# per run the config, gateway log, load output and /metrics snapshot; the relay, tunnel and
# backend logs at the top.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=$REPO/dist
BENCH_JAR=""
POOLS="256 0"
CONNECTIONS=16
WARMUP=5
DURATION=10
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --pools) POOLS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-relay-pool: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-relay-pool: $*" >&2; exit 1; }

source "$REPO/bench/lib.sh"
pick_jdk

BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
[[ -f "$DIST/portal-gateway.jar" ]] || fail "$DIST/portal-gateway.jar is missing; build with ./mvnw -q package -DskipTests"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"
GATEWAY_JAR=$DIST/portal-gateway.jar

OUT=${OUT:-$REPO/bench/results/relay-pool-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/empty-plugins"

trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. Sets STOP_NOTE when it had to kill
# or the exit status was not 0.
stop() {
  local pid=$1 limit=$(( $2 * 10 )) stopped="" rc=0
  STOP_NOTE=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$limit"); do
    kill -0 "$pid" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
  done
  if [[ -z "$stopped" ]]; then
    STOP_NOTE="did not exit within $2 s of SIGTERM"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  forget_pid "$pid"
  [[ -n "$STOP_NOTE" || $rc == 0 ]] || STOP_NOTE="exit status $rc after SIGTERM"
  return 0
}

# ms_per_request TICKS REQUESTS: CPU milliseconds per request.
ms_per_request() {
  awk -v t="$1" -v n="$2" -v hz="$TICKS_PER_SECOND" 'BEGIN {if (n > 0) printf "%.3f", t * 1000 / hz / n; else print ""}'
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "${BENCH_SOURCE:-unknown}")"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "warmup: ${WARMUP}s, measure: ${DURATION}s, connections: $CONNECTIONS, pools: $POOLS"
} | tee "$OUT/machine.txt"

# The backend, the relay and the tunnel live for the whole script.
start_bench_backend 1h
echo "backend on 127.0.0.1:$BACKEND_PORT"

start_relay_and_tunnel bench "$BACKEND_PORT"
echo "relay at $RELAY_URL"
grep "^Lease 'bench'" "$OUT/tunnel.log"

printf '%s\n' "max_idle_per_lease	rps	p50_ms	p90_ms	p99_ms	max_ms	errors	non2xx	connects	stuck	requests	gateway_cpu_ms_per_req	relay_cpu_ms_per_req	tunnel_cpu_ms_per_req	backend_cpu_ms_per_req	notes" \
  > "$OUT/results.tsv"

# run POOL: one gateway with relay.max_idle_per_lease POOL, one load run against lease "bench".
run() {
  local pool=$1 notes=""
  local dir=$OUT/pool-$pool
  mkdir -p "$dir/data"
  free_port; local port=$REPLY
  free_port; local admin=$REPLY
  cat > "$dir/gateway.yaml" <<EOF
server:
  listen: "127.0.0.1:$port"
  admin_listen: "127.0.0.1:$admin"
  access_log: false
  plugins_dir: "$OUT/empty-plugins"
  data_dir: "$dir/data"
  shutdown_grace: 5s
relay:
  url: "$RELAY_URL"
  max_idle_per_lease: $pool
EOF
  "$JAVA" -jar "$GATEWAY_JAR" --config "$dir/gateway.yaml" > "$dir/gateway.log" 2>&1 &
  local gw=$!
  STARTED_PIDS+=("$gw")
  # /readyz is 200 only once the gateway has a relay session.
  local ready=""
  for _ in $(seq 1 150); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/readyz" || true) == 200 ]]; then
      ready=1; break
    fi
    kill -0 "$gw" 2>/dev/null || break
    sleep 0.2
  done
  if [[ -z "$ready" ]]; then
    echo "  pool $pool: gateway never answered /readyz 200; log tail:" >&2
    tail -5 "$dir/gateway.log" >&2
    stop "$gw" 5
    printf '%s\t0\t\t\t\t\t\t\t\t\t\t\t\t\t\t%s\n' "$pool" "not ready" >> "$OUT/results.tsv"
    return 0
  fi
  local url="http://127.0.0.1:$port/peer/bench/x" probe
  probe=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" || true)
  [[ "$probe" == 200 ]] || notes+="probe answered $probe; "

  echo "  pool $pool: load on $url" >&2
  local pids=("$gw" "$RELAY_PID" "$TUNNEL_PID" "$BACKEND_PID") before=() after=() i
  for i in 0 1 2 3; do before[i]=$(cpu_ticks "${pids[i]}"); done
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.LoadGenerator --url "$url" --connections "$CONNECTIONS" \
    --warmup "${WARMUP}s" --duration "${DURATION}s" --label "relay-pool-$pool" > "$dir/load.txt" 2>&1 &
  local lg=$!
  STARTED_PIDS+=("$lg")
  # It stops by itself after warm-up, duration and at most its 10 s response timeout.
  local limit=$(( (WARMUP + DURATION + 40) * 10 ))
  for _ in $(seq 1 "$limit"); do
    kill -0 "$lg" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$lg" 2>/dev/null; then
    notes+="load generator hung, killed; "
    kill -KILL "$lg" 2>/dev/null || true
  fi
  for i in 0 1 2 3; do after[i]=$(cpu_ticks "${pids[i]}"); done
  wait "$lg" 2>/dev/null || true
  forget_pid "$lg"
  grep -v '^\(RESULT \|MEASUR\)' "$dir/load.txt" | sed 's/^/    /' >&2 || true
  local line
  line=$(grep '^RESULT ' "$dir/load.txt" || echo "RESULT rps=0 errors=-1")
  # CPU per request over the whole load run (warm-up included), divided by every request sent.
  local sent cpu=()
  sent=$(field sent "$line")
  for i in 0 1 2 3; do cpu[i]=$(ms_per_request $(( after[i] - before[i] )) "${sent:-0}"); done

  curl -fsS --max-time 5 "http://127.0.0.1:$admin/metrics" > "$dir/metrics.txt" 2>/dev/null || notes+="metrics failed; "
  local classes left
  classes=$(grep '^portal_gateway_requests_total{' "$dir/metrics.txt" 2>/dev/null \
    | sed -n 's/.*status_class="\([^"]*\)".* \([0-9.E+]*\)$/\1=\2/p' | tr '\n' ' ' | sed 's/ $//' || true)
  [[ -n "$classes" ]] && notes+="statuses: $classes; "
  left=$(awk '/^portal_gateway_requests_in_flight / {print $2}' "$dir/metrics.txt" 2>/dev/null || true)
  [[ -n "$left" && "$left" != "0.0" ]] && notes+="in flight after the run: $left; "

  stop "$gw" 20
  [[ -n "$STOP_NOTE" ]] && notes+="$STOP_NOTE; "
  local warnings
  warnings=$(grep -c '"level":"\(WARNING\|ERROR\)"' "$dir/gateway.log" || true)
  [[ "$warnings" != 0 ]] && notes+="$warnings warning/error log lines; "

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pool" \
    "$(field rps "$line")" "$(field p50_ms "$line")" "$(field p90_ms "$line")" "$(field p99_ms "$line")" \
    "$(field max_ms "$line")" "$(field errors "$line")" "$(field non2xx "$line")" "$(field connects "$line")" \
    "$(field stuck "$line")" "$(field requests "$line")" "${cpu[0]}" "${cpu[1]}" "${cpu[2]}" "${cpu[3]}" \
    "${notes%; }" >> "$OUT/results.tsv"
  echo "  pool $pool: $(grep -v '^\(RESULT \|MEASUR\)' "$dir/load.txt" | tail -1)"
  [[ -n "$notes" ]] && echo "  pool $pool notes: ${notes%; }"
  return 0
}

for pool in $POOLS; do
  run "$pool"
done

# The relay and tunnel saw every run: anything they logged besides their two start lines is worth a look.
{
  echo "# Through the relay: pool on vs off"
  echo
  sed 's/^/    /' "$OUT/machine.txt"
  echo
  echo "| max_idle_per_lease | req/s | p50 ms | p99 ms | errors | non-2xx | CPU ms/req: gateway | relay | tunnel | backend | notes |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  tail -n +2 "$OUT/results.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $5, $7, $8, $12, $13, $14, $15, $16}'
  echo
  echo "relay log lines: $(wc -l < "$OUT/relay.log"), tunnel log lines: $(wc -l < "$OUT/tunnel.log")"
} > "$OUT/summary.md"
echo
cat "$OUT/summary.md"
echo
echo "results in $OUT"
