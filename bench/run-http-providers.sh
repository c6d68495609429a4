#!/usr/bin/env bash
# Throughput and latency of the gateway with each server.http_provider (jdk, robaho), proxying to
# BenchBackend on loopback, next to the backend measured alone as the ceiling. Providers alternate
# within each round (jdk, robaho, jdk, robaho, ...) so that both see the same machine state: on a
# 2-core machine a background job or a thermal change would otherwise favour whichever ran second.
#
# Usage: bench/run-http-providers.sh [--dist DIR] [--bench-jar FILE] [--connections "16 64"]
#          [--variants "jdk robaho"] [--access-log "off on"] [--rounds 2] [--warmup 10] [--duration 10]
#          [--path /x] [--out DIR]
#
#   --dist DIR        a laid-out dist/ to run; without it the script builds this checkout first
#   --path P          what to ask the backend for: /x (1 KiB with Content-Length, the default),
#                     /chunked (the same chunked), /chunked-64k (64 KiB chunked)
#   --bench-jar FILE  LoadGenerator and BenchBackend (default bench/target/benchmarks.jar)
#   --variants LIST   providers to compare; NAME+nodelay runs provider NAME with its TCP_NODELAY
#                     JVM property set to true (the gateway sets robaho's itself; for jdk, a what-if)
#   --access-log LIST server.access_log settings to run: off measures the server, on is the default
#   --warmup/--duration  seconds per run, before and while measuring (default 10 and 10: on two
#                     shared cores the gateway's JIT needs about 10 s of load to settle)
#
# Results land in bench/results/http-providers-TIMESTAMP/ (or --out): summary.md with the table,
# results.tsv with every run, and each run's config, gateway log and /metrics snapshot.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=""
BENCH_JAR=""
CONNECTIONS="16 64"
VARIANTS="jdk robaho"
BENCH_PATH="/x"
ACCESS_LOGS="off on"
ROUNDS=2
WARMUP=10
DURATION=10
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --path) BENCH_PATH=$2; shift 2 ;;
    --access-log) ACCESS_LOGS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run-http-providers: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-http-providers: $*" >&2; exit 1; }

source "$REPO/bench/lib.sh"
pick_jdk

if [[ -z "$DIST" ]]; then
  echo "building $REPO with $JDK_HOME ..."
  (cd "$REPO" && JAVA_HOME=$JDK_HOME ./mvnw -q package -DskipTests)
  DIST=$REPO/dist
fi
BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
[[ -f "$DIST/portal-gateway.jar" ]] || fail "$DIST/portal-gateway.jar is missing"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"

OUT=${OUT:-$REPO/bench/results/http-providers-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
EMPTY_PLUGINS=$OUT/empty-plugins
mkdir -p "$EMPTY_PLUGINS"

trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "${BENCH_SOURCE:-unknown}")"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "warmup: ${WARMUP}s, measure: ${DURATION}s, rounds: $ROUNDS, connections: $CONNECTIONS"
  echo "variants: $VARIANTS, access log: $ACCESS_LOGS"
} | tee "$OUT/machine.txt"

printf '%s\n' "round	target	access_log	connections	rps	p50_ms	p90_ms	p99_ms	max_ms	errors	non2xx	connects	stuck	requests	gateway_cpu_s	backend_cpu_s	loadgen_cpu_s	others_cpu_s	notes" \
  > "$OUT/results.tsv"

# record ROUND TARGET ACCESS CONNECTIONS NOTES: one results.tsv row from LOAD_RESULT and LOAD_CPU.
record() {
  local line=$LOAD_RESULT
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
    "$(field rps "$line")" "$(field p50_ms "$line")" "$(field p90_ms "$line")" "$(field p99_ms "$line")" \
    "$(field max_ms "$line")" "$(field errors "$line")" "$(field non2xx "$line")" "$(field connects "$line")" \
    "$(field stuck "$line")" "$(field requests "$line")" "${LOAD_CPU[0]:-}" "${LOAD_CPU[1]:-}" \
    "${LOAD_CPU[2]:-}" "${LOAD_CPU[3]:-}" "$5" >> "$OUT/results.tsv"
}

# load LABEL URL CONNECTIONS LOGFILE GATEWAY_PID: runs the load generator. Sets LOAD_RESULT to
# its RESULT line, and LOAD_CPU to the CPU seconds that the gateway (empty when GATEWAY_PID is ""),
# the backend, the generator and everything else on the machine used while it measured. The last
# says whether something besides the benchmark competed for the two cores. The generator stops
# by itself; the bounded waits here are a second fence, past which it is killed.
load() {
  local label=$1 url=$2 conns=$3 log=$4 gw=$5
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.LoadGenerator \
    --url "$url" --connections "$conns" --warmup "${WARMUP}s" --duration "${DURATION}s" --label "$label" \
    > "$log" 2>&1 &
  local lg=$! gw_before=0 gw_after=0 be_before="" be_after="" all_before="" all_after=""
  STARTED_PIDS+=("$lg")
  if wait_for_line "$log" MEASURING $(( WARMUP + 30 )) "$lg"; then
    [[ -n "$gw" ]] && gw_before=$(cpu_ticks "$gw")
    be_before=$(cpu_ticks "$BACKEND_PID"); all_before=$(busy_ticks)
    if wait_for_line "$log" MEASURED $(( DURATION + 30 )) "$lg"; then
      [[ -n "$gw" ]] && gw_after=$(cpu_ticks "$gw")
      be_after=$(cpu_ticks "$BACKEND_PID"); all_after=$(busy_ticks)
    fi
  fi
  # It exits once every connection finished its last response, or gave up after its 10 s timeout.
  for _ in $(seq 1 300); do
    kill -0 "$lg" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$lg" 2>/dev/null || true
  wait "$lg" 2>/dev/null || true
  forget_pid "$lg"
  grep -v '^\(RESULT \|MEASUR\)' "$log" | sed 's/^/    /' >&2 || true
  LOAD_RESULT=$(grep '^RESULT ' "$log" || echo "RESULT label=$label rps=0 errors=-1 stuck=-1")
  LOAD_CPU=("" "" "" "")
  local lg_cpu
  lg_cpu=$(field window_cpu_s "$LOAD_RESULT")
  if [[ -n "$all_after" && -n "$lg_cpu" ]]; then
    [[ -n "$gw" ]] && LOAD_CPU[0]=$(seconds "$gw_before" "$gw_after")
    LOAD_CPU[1]=$(seconds "$be_before" "$be_after")
    LOAD_CPU[2]=$lg_cpu
    local servers
    servers=$(seconds 0 $(( gw_after - gw_before + be_after - be_before )))
    LOAD_CPU[3]=$(awk -v all="$(seconds "$all_before" "$all_after")" -v servers="$servers" -v lg="$lg_cpu" \
      'BEGIN {printf "%.2f", all - servers - lg}')
  fi
  return 0
}

start_bench_backend 3h
echo "backend on 127.0.0.1:$BACKEND_PORT"

# gateway_run ROUND VARIANT ACCESS CONNECTIONS
gateway_run() {
  local round=$1 variant=$2 access=$3 conns=$4
  local provider=${variant%%+*} jvm_opts=() notes=""
  if [[ "$variant" == *+nodelay ]]; then
    case "$provider" in
      robaho) jvm_opts+=(-Drobaho.net.httpserver.nodelay=true) ;;
      jdk) jvm_opts+=(-Dsun.net.httpserver.nodelay=true) ;;
    esac
  fi
  local tag="r$round-$variant-log$access-c$conns"
  local dir=$OUT/$tag
  mkdir -p "$dir/data"
  free_port; local port=$REPLY
  free_port; local admin=$REPLY
  cat > "$dir/gateway.yaml" <<EOF
server:
  listen: "127.0.0.1:$port"
  admin_listen: "127.0.0.1:$admin"
  http_provider: "$provider"
  access_log: $([[ $access == on ]] && echo true || echo false)
  plugins_dir: "$EMPTY_PLUGINS"
  data_dir: "$dir/data"
  shutdown_grace: 5s
relay:
  enabled: false       # plain upstreams only: no relay session competing for the CPU
upstreams:
  backend: "http://127.0.0.1:$BACKEND_PORT"
EOF
  # The access log goes to stdout, here a file: a real deployment writes it to a pipe or a file too.
  "$JAVA" ${jvm_opts[@]+"${jvm_opts[@]}"} -jar "$DIST/portal-gateway.jar" --config "$dir/gateway.yaml" \
    > "$dir/gateway.log" 2>&1 &
  local gw=$!
  STARTED_PIDS+=("$gw")
  local up=""
  for _ in $(seq 1 150); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$admin/healthz" > /dev/null 2>&1; then up=1; break; fi
    kill -0 "$gw" 2>/dev/null || break
    sleep 0.2
  done
  if [[ -z "$up" ]]; then
    echo "  $tag: gateway did not become healthy; log tail:" >&2
    tail -5 "$dir/gateway.log" >&2
    kill -KILL "$gw" 2>/dev/null || true
    wait "$gw" 2>/dev/null || true
    forget_pid "$gw"
    LOAD_RESULT="RESULT rps=0"; LOAD_CPU=("" "" "" "")
    record "$round" "gateway-$variant" "$access" "$conns" "did not start"
    return 0
  fi
  local probe
  probe=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/peer/backend$BENCH_PATH" || true)
  [[ "$probe" == 200 ]] || notes+="probe answered $probe; "

  echo "  $tag" >&2
  load "gateway-$variant-log$access" "http://127.0.0.1:$port/peer/backend$BENCH_PATH" "$conns" "$dir/load.txt" "$gw"

  curl -fsS --max-time 5 "http://127.0.0.1:$admin/metrics" > "$dir/metrics.txt" 2>/dev/null || notes+="metrics failed; "
  local classes
  classes=$(grep '^portal_gateway_requests_total{' "$dir/metrics.txt" 2>/dev/null \
    | sed -n 's/.*status_class="\([^"]*\)".* \([0-9.E+]*\)$/\1=\2/p' | tr '\n' ' ' | sed 's/ $//' || true)
  [[ -n "$classes" ]] && notes+="statuses: $classes; "
  local left
  left=$(awk '/^portal_gateway_requests_in_flight / {print $2}' "$dir/metrics.txt" 2>/dev/null || true)
  [[ -n "$left" && "$left" != "0.0" ]] && notes+="in flight after the run: $left; "

  kill -TERM "$gw" 2>/dev/null || true
  local stopped=""
  for _ in $(seq 1 200); do
    kill -0 "$gw" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
  done
  if [[ -z "$stopped" ]]; then
    notes+="did not exit within 20 s of SIGTERM; "
    kill -KILL "$gw" 2>/dev/null || true
  fi
  local rc=0
  wait "$gw" 2>/dev/null || rc=$?
  forget_pid "$gw"
  [[ $rc == 0 || -z "$stopped" ]] || notes+="exit status $rc after SIGTERM; "

  local warnings
  warnings=$(grep -c '"level":"\(WARNING\|ERROR\)"' "$dir/gateway.log" || true)
  [[ "$warnings" != 0 ]] && notes+="$warnings warning/error log lines; "
  if [[ $access == on ]]; then
    # Keep a sample and the count, not the whole log: it is tens of megabytes per run.
    local lines
    lines=$(grep -c '"logger":"access"' "$dir/gateway.log" || true)
    notes+="access log lines: $lines (sent $(field sent "$LOAD_RESULT") + 1 probe); "
    grep -m 20 '"logger":"access"' "$dir/gateway.log" > "$dir/access-sample.log" || true
    grep -v '"logger":"access"' "$dir/gateway.log" > "$dir/gateway.log.other" || true
    mv "$dir/gateway.log.other" "$dir/gateway.log"
  fi
  record "$round" "gateway-$variant" "$access" "$conns" "${notes%; }"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS"
  for conns in $CONNECTIONS; do
    echo "  r$round-backend-direct-c$conns" >&2
    load "backend-direct" "http://127.0.0.1:$BACKEND_PORT$BENCH_PATH" "$conns" "$OUT/r$round-backend-c$conns.txt" ""
    record "$round" "backend-direct" "-" "$conns" ""
    for access in $ACCESS_LOGS; do
      for variant in $VARIANTS; do
        gateway_run "$round" "$variant" "$access" "$conns"
      done
    done
  done
done

# The table: each figure is the mean over rounds, with the lowest and highest requests/s. CPU per
# request divides a process's CPU time over the measured window by the 2xx responses in it;
# "others" is the CPU time every other process on the machine took in that window (of
# 2 x duration available): far above zero, and the run competed with something else.
awk -F'\t' '
  NR == 1 { next }
  {
    key = $2 "\t" $3 "\t" $4
    if (!(key in n)) { order[++keys] = key; lo[key] = $5; hi[key] = $5 }
    n[key]++; rps[key] += $5; p50[key] += $6; p99[key] += $8; err[key] += $10
    if ($5 < lo[key]) lo[key] = $5
    if ($5 > hi[key]) hi[key] = $5
    if ($14 > 0) {
      if ($15 != "") { gw[key] += $15 * 1e6 / $14; gwn[key]++ }
      if ($16 != "") { be[key] += $16 * 1e6 / $14; ben[key]++ }
      if ($17 != "") { lg[key] += $17 * 1e6 / $14; lgn[key]++ }
    }
    if ($19 != "") notes[key] = notes[key] "r" $1 ": " $19 ". "
    if ($18 != "") { others[key] += $18; othersn[key]++ }
  }
  function us(sum, count) { return count ? sprintf("%.0f", sum / count) : "-" }
  END {
    print "| target | access log | connections | requests/s | range | p50 ms | p99 ms | errors | gateway CPU us/req | backend CPU us/req | generator CPU us/req | others CPU s |"
    print "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= keys; i++) {
      k = order[i]; split(k, f, "\t")
      printf "| %s | %s | %s | %.0f | %.0f-%.0f | %.2f | %.2f | %d | %s | %s | %s | %s |\n", f[1], f[2], f[3], rps[k] / n[k], lo[k], hi[k], p50[k] / n[k], p99[k] / n[k], err[k], us(gw[k], gwn[k]), us(be[k], ben[k]), us(lg[k], lgn[k]), othersn[k] ? sprintf("%.1f", others[k] / othersn[k]) : "-"
    }
    print ""
    for (i = 1; i <= keys; i++) { k = order[i]; if (notes[k] != "") { split(k, f, "\t"); print "- " f[1] ", access log " f[2] ", " f[3] " connections: " notes[k] } }
  }' "$OUT/results.tsv" > "$OUT/summary.md"

echo
cat "$OUT/machine.txt"
echo
cat "$OUT/summary.md"
echo
echo "results: $OUT"
