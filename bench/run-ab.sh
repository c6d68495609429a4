#!/usr/bin/env bash
# Two builds of the gateway against each other, in one run: "before" and "after" a change, on the
# no-plugin path (GET /peer/backend/x to BenchBackend, relay disabled, no plugins, the access log
# on as by default). A fresh gateway JVM for every run; within each round and connection count
# both builds run back to back, and which goes first swaps every round (A B | B A | A B ...), so
# that a machine that speeds up or slows down during the run favours neither.
#
# Usage: bench/run-ab.sh --a DIST --b DIST [--label-a before] [--label-b after] [--bench-jar FILE]
#          [--connections "16 64"] [--rate N] [--rounds 4] [--warmup 10] [--duration 10]
#          [--provider jdk] [--access-log on] [--out DIR]
#
#   --a/--b DIR       two laid-out dist/ directories (each with portal-gateway.jar)
#   --bench-jar FILE  LoadGenerator and BenchBackend (default bench/target/benchmarks.jar)
#   --rate N          an open loop at N requests/s over the connections instead of a closed loop:
#                     both builds then do the same work, and CPU and bytes per request compare
#                     without the noise of throughput on a saturated machine
#   --warmup/--duration  seconds per run, before and while measuring (default 10 and 10: on two
#                     shared cores the gateway's JIT needs about 10 s of load to settle)
#
# It fails (exit 1) if a gateway does not start or a run saw an error or a non-2xx answer.
# Results land in bench/results/ab-TIMESTAMP/ (or --out): summary.md (every run, then medians
# per build and the B/A ratio of requests/s and of gateway CPU per request, and the bytes the
# gateway allocated per request, from its JVM metrics), results.tsv,
# machine.txt, and each run's config and log. Each run takes warm-up plus duration plus about 3 s.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST_A=""
DIST_B=""
LABEL_A=before
LABEL_B=after
BENCH_JAR=""
CONNECTIONS="16 64"
ROUNDS=4
WARMUP=10
DURATION=10
PROVIDER=jdk
ACCESS_LOG=on
RATE=""
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --a) DIST_A=$2; shift 2 ;;
    --b) DIST_B=$2; shift 2 ;;
    --label-a) LABEL_A=$2; shift 2 ;;
    --label-b) LABEL_B=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --provider) PROVIDER=$2; shift 2 ;;
    --access-log) ACCESS_LOG=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-ab: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-ab: FAILED: $*" >&2; exit 1; }

source "$REPO/bench/lib.sh"
pick_jdk
BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
[[ -n "$DIST_A" && -n "$DIST_B" ]] || fail "name both builds: --a DIST --b DIST"
[[ -f "$DIST_A/portal-gateway.jar" ]] || fail "$DIST_A/portal-gateway.jar is missing"
[[ -f "$DIST_B/portal-gateway.jar" ]] || fail "$DIST_B/portal-gateway.jar is missing"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"

OUT=${OUT:-$REPO/bench/results/ab-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/empty-plugins"
trap cleanup EXIT
trap 'exit 130' INT TERM

# jvm_stats ADMIN_PORT: bytes allocated in the young generation so far (from the gateway's JVM
# metrics, counted at each GC, so exact to one young collection), young GC count and GC seconds.
jvm_stats() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '
    /^jvm_memory_pool_allocated_bytes_total\{.*Eden/ {alloc += $NF}
    /^jvm_gc_collection_seconds_count\{.*(Young|young)/ {young += $NF}
    /^jvm_gc_collection_seconds_sum\{/ {gc += $NF}
    END {printf "%.0f %.0f %.3f\n", alloc, young, gc}'
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "A ($LABEL_A): $DIST_A"
  echo "B ($LABEL_B): $DIST_B"
  echo "warmup: ${WARMUP}s, measure: ${DURATION}s, rounds: $ROUNDS, connections: $CONNECTIONS, provider $PROVIDER, access log $ACCESS_LOG${RATE:+, open loop at $RATE requests/s}"
} | tee "$OUT/machine.txt"

printf 'round\tbuild\tconnections\trps\tp50_ms\tp99_ms\terrors\tnon2xx\trequests\tgateway_cpu_s\tbackend_cpu_s\tloadgen_cpu_s\tothers_cpu_s\talloc_bytes\tyoung_gcs\tgc_s\n' \
  > "$OUT/results.tsv"

start_bench_backend 3h

# one_run ROUND LABEL DIST CONNECTIONS
one_run() {
  local round=$1 label=$2 dist=$3 conns=$4
  local dir=$OUT/r$round-$label-c$conns
  mkdir -p "$dir/data"
  free_port; local port=$REPLY
  free_port; local admin=$REPLY
  cat > "$dir/gateway.yaml" <<EOF
server:
  listen: "127.0.0.1:$port"
  admin_listen: "127.0.0.1:$admin"
  http_provider: "$PROVIDER"
  access_log: $([[ $ACCESS_LOG == on ]] && echo true || echo false)
  plugins_dir: "$OUT/empty-plugins"
  data_dir: "$dir/data"
relay:
  enabled: false
upstreams:
  backend: "http://127.0.0.1:$BACKEND_PORT"
EOF
  "$JAVA" -jar "$dist/portal-gateway.jar" --config "$dir/gateway.yaml" > "$dir/gateway.log" 2>&1 &
  local gw=$!
  STARTED_PIDS+=("$gw")
  local up=""
  for _ in $(seq 1 150); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$admin/healthz" > /dev/null 2>&1; then up=1; break; fi
    kill -0 "$gw" 2>/dev/null || break
    sleep 0.2
  done
  [[ -n "$up" ]] || fail "$label gateway did not become healthy: $(tail -5 "$dir/gateway.log")"
  echo "  r$round $label c$conns" >&2
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.LoadGenerator --url "http://127.0.0.1:$port/peer/backend/x" \
    --connections "$conns" --warmup "${WARMUP}s" --duration "${DURATION}s" --label "$label" ${RATE:+--rate "$RATE"} \
    > "$dir/load.txt" 2>&1 &
  local lg=$!
  STARTED_PIDS+=("$lg")
  wait_for_match "$dir/load.txt" '^MEASURING' $(( WARMUP + 30 )) "$lg" || fail "r$round $label: the load never started measuring"
  local gw0 be0 all0 gw1 be1 all1 jvm0 jvm1
  gw0=$(cpu_ticks "$gw"); be0=$(cpu_ticks "$BACKEND_PID"); all0=$(busy_ticks); jvm0=$(jvm_stats "$admin")
  wait_for_match "$dir/load.txt" '^MEASURED' $(( DURATION + 30 )) "$lg" || fail "r$round $label: the load never finished"
  gw1=$(cpu_ticks "$gw"); be1=$(cpu_ticks "$BACKEND_PID"); all1=$(busy_ticks); jvm1=$(jvm_stats "$admin")
  wait "$lg" || true
  forget_pid "$lg"
  kill -TERM "$gw" 2>/dev/null || true
  wait "$gw" 2>/dev/null || true
  forget_pid "$gw"
  grep -v '"logger":"access"' "$dir/gateway.log" > "$dir/gateway.log.other" || true
  mv "$dir/gateway.log.other" "$dir/gateway.log"
  local result
  result=$(grep '^RESULT ' "$dir/load.txt" || true)
  [[ -n "$result" ]] || fail "r$round $label: no RESULT: $(tail -5 "$dir/load.txt")"
  [[ "$(field errors "$result")" == 0 && "$(field non2xx "$result")" == 0 ]] || fail "r$round $label: errors: $result"
  local gwc bec lgc others
  gwc=$(seconds "$gw0" "$gw1"); bec=$(seconds "$be0" "$be1"); lgc=$(field window_cpu_s "$result")
  others=$(awk -v a="$(seconds "$all0" "$all1")" -v g="$gwc" -v b="$bec" -v l="$lgc" 'BEGIN {printf "%.2f", a - g - b - l}')
  local jvm
  jvm=$(awk -v a="$jvm0" -v b="$jvm1" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.0f\t%d\t%.3f", y[1] - x[1], y[2] - x[2], y[3] - x[3]}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$label" "$conns" \
    "$(field rps "$result")" "$(field p50_ms "$result")" "$(field p99_ms "$result")" "$(field errors "$result")" \
    "$(field non2xx "$result")" "$(field requests "$result")" "$gwc" "$bec" "$lgc" "$others" "$jvm" >> "$OUT/results.tsv"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS"
  for conns in $CONNECTIONS; do
    if (( round % 2 == 1 )); then
      one_run "$round" "$LABEL_A" "$DIST_A" "$conns"
      one_run "$round" "$LABEL_B" "$DIST_B" "$conns"
    else
      one_run "$round" "$LABEL_B" "$DIST_B" "$conns"
      one_run "$round" "$LABEL_A" "$DIST_A" "$conns"
    fi
  done
done

python3 - "$OUT/results.tsv" "$LABEL_A" "$LABEL_B" > "$OUT/summary.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
a, b = sys.argv[2], sys.argv[3]
def us(r):
  return float(r["gateway_cpu_s"]) * 1e6 / float(r["requests"]) if float(r["requests"]) else 0.0
def kb(r):
  return float(r["alloc_bytes"]) / 1024 / float(r["requests"]) if float(r["requests"]) else 0.0
print("| round | build | connections | requests/s | p50 ms | p99 ms | gateway CPU µs/req | allocated KiB/req | young GCs | GC s | others CPU s |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
  print(f"| {r['round']} | {r['build']} | {r['connections']} | {float(r['rps']):,.0f} | {r['p50_ms']} | {r['p99_ms']} "
        f"| {us(r):.0f} | {kb(r):.1f} | {r['young_gcs']} | {r['gc_s']} | {r['others_cpu_s']} |")
print()
print(f"| connections | {a} requests/s | {b} requests/s | {b}/{a} | {a} µs/req | {b} µs/req | {b}/{a} | {a} KiB/req | {b} KiB/req | {b}/{a} requests/s by round |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for conns in dict.fromkeys(r["connections"] for r in rows):
  ra = [r for r in rows if r["connections"] == conns and r["build"] == a]
  rb = [r for r in rows if r["connections"] == conns and r["build"] == b]
  ma, mb = statistics.median(float(r["rps"]) for r in ra), statistics.median(float(r["rps"]) for r in rb)
  ca, cb = statistics.median(us(r) for r in ra), statistics.median(us(r) for r in rb)
  pairs = {r["round"]: float(r["rps"]) for r in ra}
  by_round = ", ".join(f"{float(r['rps']) / pairs[r['round']]:.2f}" for r in rb if r["round"] in pairs)
  ka, kb_ = statistics.median(kb(r) for r in ra), statistics.median(kb(r) for r in rb)
  print(f"| {conns} | {ma:,.0f} | {mb:,.0f} | {mb / ma:.3f} | {ca:.0f} | {cb:.0f} | {cb / ca:.3f} | {ka:.1f} | {kb_:.1f} | {by_round} |")
PY
echo
cat "$OUT/machine.txt"
echo
cat "$OUT/summary.md"
echo "results: $OUT"
