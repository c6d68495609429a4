#!/usr/bin/env bash
# Throughput of the gateway with the ratelimit-token-cost plugin off, on with its local store, and
# on with its Redis store, in one run on one machine. All three proxy GET /peer/backend/x to
# BenchBackend on loopback. "local" and "redis" configure three request-rate buckets (per client
# address, per lease, global) with limits so high (1,000,000 a second, burst 1,000,000) that no
# request is ever refused: every request takes a token from each bucket, and none gets a 429.
# "redis" keeps the buckets in a redis-server that the script starts on loopback, with
# on_store_failure: closed, so that a Redis failure would show as 503s rather than as fast passes.
# The three alternate within each round, and the order rotates from round to round
# (off local redis | local redis off | redis off local ...), so that none is favoured by a machine
# that speeds up or slows down during the run.
#
# Usage: bench/run-ratelimit.sh [--dist DIR] [--bench-jar FILE] [--connections "16 64"]
#          [--rounds 3] [--warmup 10] [--duration 10] [--provider jdk] [--access-log on]
#          [--redis-server PATH] [--redis-pool-size N] [--allow-warmup-503] [--out DIR]
#
#   --dist DIR        a laid-out dist/ with portal-gateway.jar and plugins/ratelimit-token-cost.jar
#                     (default dist/; build it first with ./mvnw -q package -DskipTests)
#   --bench-jar FILE  LoadGenerator and BenchBackend (default bench/target/benchmarks.jar)
#   --rounds N        rounds; each runs all three configurations at every connection count (default 3)
#   --warmup/--duration  seconds per run, before and while measuring (default 10 and 10)
#   --provider NAME   server.http_provider of every configuration (default jdk, the default)
#   --access-log on|off  server.access_log of every configuration (default on, the default)
#   --redis-server PATH  the redis-server binary (default: redis-server on the PATH; 6.0 or newer);
#                     redis-cli must be on the PATH too
#   --redis-pool-size N  redis.pool_size of the "redis" gateways (default: not set, the plugin's
#                     default of 64). Each request holds a connection for one call, which takes
#                     from all three buckets.
#   --allow-warmup-503   let a "redis" run pass when its only errors were 503s during the warm-up
#                     and the plugin counted exactly that many store failures: a fresh gateway hit
#                     by 64 connections at once can see a Redis call overrun redis.timeout (200ms)
#                     in its first seconds (cold JIT, two shared cores). With on_store_failure:
#                     closed that request gets a 503, and so does every request whose calls find
#                     the plugin's breaker open (from that failure until a call succeeds, at most a
#                     second). They are counted in results.tsv and named in the summary. The
#                     measured window must still be all 2xx. Without this option any non-2xx
#                     answer fails the run.
#
# It fails (exit 1) unless every run answered only 2xx with no connection error (warm-up
# included); the "local" and "redis" gateways answered a probe before and after the load with
# RateLimit-Limit: 1000000 (the plugin is on) and the "off" gateway with no RateLimit-* header;
# the plugin logged "rate limits active" with the configured store and counted no store failure
# and no refusal in /metrics; the "redis" gateways logged no store warning, and Redis ran at least
# one rate-limit script (EVALSHA or EVAL) per request the load sent, and not more (one script
# takes from all three buckets); and during the
# "off" and "local" runs Redis ran none.
#
# One redis-server (no persistence, bound to 127.0.0.1, a free port) and one BenchBackend serve the
# whole run; an exit trap stops them and every gateway. Redis shares the machine's cores with the
# gateway, the backend and the load generator: its CPU time per measured window is reported apart.
#
# Results land in bench/results/ratelimit-TIMESTAMP/ (or --out): summary.md with the tables,
# results.tsv with every run, machine.txt, redis.log, and each run's config, gateway log, load
# output, probes and /metrics snapshot. Each run takes warm-up plus duration plus about 3 s; the
# defaults (3 rounds, 2 connection counts, 3 configurations) take about 8 minutes.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=$REPO/dist
BENCH_JAR=""
CONNECTIONS="16 64"
ROUNDS=3
WARMUP=10
DURATION=10
PROVIDER=jdk
ACCESS_LOG=on
REDIS_SERVER=redis-server
REDIS_POOL_SIZE=""
ALLOW_WARMUP_503=""
OUT=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --provider) PROVIDER=$2; shift 2 ;;
    --access-log) ACCESS_LOG=$2; shift 2 ;;
    --redis-server) REDIS_SERVER=$2; shift 2 ;;
    --redis-pool-size) REDIS_POOL_SIZE=$2; shift 2 ;;
    --allow-warmup-503) ALLOW_WARMUP_503=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-ratelimit: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-ratelimit: FAILED: $*" >&2; exit 1; }

source "$REPO/bench/lib.sh"
pick_jdk

[[ "$ACCESS_LOG" == on || "$ACCESS_LOG" == off ]] || fail "--access-log is on or off, not '$ACCESS_LOG'"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive number"
[[ -z "$REDIS_POOL_SIZE" || "$REDIS_POOL_SIZE" =~ ^[1-9][0-9]*$ ]] || fail "--redis-pool-size must be a positive number"
BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
DIST=$(cd "$DIST" 2>/dev/null && pwd) || fail "no directory $DIST; build with ./mvnw -q package -DskipTests"
[[ -f "$DIST/portal-gateway.jar" ]] || fail "$DIST/portal-gateway.jar is missing; build with ./mvnw -q package -DskipTests"
[[ -f "$DIST/plugins/ratelimit-token-cost.jar" ]] \
  || fail "$DIST/plugins/ratelimit-token-cost.jar is missing; build with ./mvnw -q package -DskipTests"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"
command -v curl > /dev/null || fail "curl is needed for the probes"
command -v "$REDIS_SERVER" > /dev/null || fail "no $REDIS_SERVER: install redis-server (6.0 or newer) or pass --redis-server"
command -v redis-cli > /dev/null || fail "redis-cli is needed to read Redis's statistics"

OUT=${OUT:-$REPO/bench/results/ratelimit-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# Every configuration loads the same plugins directory, holding only ratelimit-token-cost.jar:
# they differ in the plugins: section alone, not in what the gateway finds at start-up.
PLUGINS=$OUT/plugins
mkdir -p "$PLUGINS"
ln -sf "$DIST/plugins/ratelimit-token-cost.jar" "$PLUGINS/ratelimit-token-cost.jar"
CONFIGS=(off local redis)
METRIC=portal_gateway_ratelimit_token_cost_
LIMIT=1000000     # rate_per_second and burst of every bucket: never reached

trap cleanup EXIT
trap 'exit 130' INT TERM

# samples FILE NAME: the sample lines (not HELP or TYPE) of NAME in a /metrics snapshot.
samples() { grep -E "^$2(\{| )" "$1" 2>/dev/null || true; }

# redis_info SECTION: one section of Redis's INFO, without the protocol's carriage returns.
redis_info() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info "$1" 2>/dev/null | tr -d '\r'; }
# redis_scripts: how many EVALSHA and EVAL calls Redis has run since it started.
redis_scripts() {
  redis_info commandstats | awk -F'[:=,]' '/^cmdstat_(evalsha|eval):/ {n += $3} END {printf "%d", n}'
}
# redis_commands: Redis's total_commands_processed (the INFO calls of this script included).
redis_commands() { redis_info stats | awk -F: '/^total_commands_processed:/ {printf "%d", $2}'; }

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "${BENCH_SOURCE:-unknown}")"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "redis: $("$REDIS_SERVER" --version)"
  echo "warmup: ${WARMUP}s, measure: ${DURATION}s, rounds: $ROUNDS, connections: $CONNECTIONS"
  echo "http_provider: $PROVIDER, access log: $ACCESS_LOG, relay: off"
  echo "buckets: per_client_ip, per_lease, global; rate_per_second $LIMIT, burst $LIMIT"
  echo "redis store: on_store_failure closed, pool_size ${REDIS_POOL_SIZE:-default}, timeout default"
  echo "warm-up 503s of redis runs: $([[ -n $ALLOW_WARMUP_503 ]] && echo "allowed and counted (--allow-warmup-503)" || echo "fail the run")"
  # Anything already busy on the machine will compete with the runs: say how much there is.
  b0=$(busy_ticks); sleep 3; b1=$(busy_ticks)
  echo "machine busy before the runs: $(seconds "$b0" "$b1") CPU-seconds in 3 s (of $(( 3 * $(nproc) )))"
} | tee "$OUT/machine.txt"

COLUMNS_TSV="round order config connections rps p50_ms p90_ms p99_ms max_ms errors non2xx warmup_errors connects stuck requests sent warmup_503 gateway_cpu_s backend_cpu_s loadgen_cpu_s redis_cpu_s others_cpu_s redis_scripts redis_commands notes"
tr ' ' '\t' <<<"$COLUMNS_TSV" > "$OUT/results.tsv"

# record ROUND ORDER CONFIG CONNECTIONS WARMUP_503 SCRIPTS COMMANDS NOTES: one results.tsv row
# from LOAD_RESULT and LOAD_CPU.
record() {
  local line=$LOAD_RESULT
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$1" "$2" "$3" "$4" \
    "$(field rps "$line")" "$(field p50_ms "$line")" "$(field p90_ms "$line")" "$(field p99_ms "$line")" \
    "$(field max_ms "$line")" "$(field errors "$line")" "$(field non2xx "$line")" "$(field warmup_errors "$line")" \
    "$(field connects "$line")" "$(field stuck "$line")" "$(field requests "$line")" "$(field sent "$line")" "$5" \
    "${LOAD_CPU[0]:-}" "${LOAD_CPU[1]:-}" "${LOAD_CPU[2]:-}" "${LOAD_CPU[3]:-}" "${LOAD_CPU[4]:-}" \
    "$6" "$7" "$8" >> "$OUT/results.tsv"
}

# load LABEL URL CONNECTIONS LOGFILE GATEWAY_PID: runs the load generator. Sets LOAD_RESULT to
# its RESULT line, and LOAD_CPU to the CPU seconds that the gateway, the backend, the generator,
# redis-server and everything else on the machine used while it measured. The generator stops
# by itself; the bounded waits are a second fence.
load() {
  local label=$1 url=$2 conns=$3 log=$4 gw=$5
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.LoadGenerator \
    --url "$url" --connections "$conns" --warmup "${WARMUP}s" --duration "${DURATION}s" --label "$label" \
    > "$log" 2>&1 &
  local lg=$! gw_before=0 gw_after=0 be_before="" be_after="" rd_before="" rd_after="" all_before="" all_after=""
  STARTED_PIDS+=("$lg")
  if wait_for_line "$log" MEASURING $(( WARMUP + 30 )) "$lg"; then
    gw_before=$(cpu_ticks "$gw"); be_before=$(cpu_ticks "$BACKEND_PID"); rd_before=$(cpu_ticks "$REDIS_PID")
    all_before=$(busy_ticks)
    if wait_for_line "$log" MEASURED $(( DURATION + 30 )) "$lg"; then
      gw_after=$(cpu_ticks "$gw"); be_after=$(cpu_ticks "$BACKEND_PID"); rd_after=$(cpu_ticks "$REDIS_PID")
      all_after=$(busy_ticks)
    fi
  fi
  for _ in $(seq 1 300); do
    kill -0 "$lg" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$lg" 2>/dev/null || true
  wait "$lg" 2>/dev/null || true
  forget_pid "$lg"
  grep -v '^\(RESULT \|MEASUR\)' "$log" | sed 's/^/    /' >&2 || true
  LOAD_RESULT=$(grep '^RESULT ' "$log" || echo "RESULT label=$label rps=0 errors=-1 non2xx=-1 warmup_errors=-1 stuck=-1")
  LOAD_CPU=("" "" "" "" "")
  local lg_cpu
  lg_cpu=$(field window_cpu_s "$LOAD_RESULT")
  if [[ -n "$all_after" && -n "$lg_cpu" ]]; then
    LOAD_CPU[0]=$(seconds "$gw_before" "$gw_after")
    LOAD_CPU[1]=$(seconds "$be_before" "$be_after")
    LOAD_CPU[2]=$lg_cpu
    LOAD_CPU[3]=$(seconds "$rd_before" "$rd_after")
    local servers
    servers=$(seconds 0 $(( gw_after - gw_before + be_after - be_before + rd_after - rd_before )))
    LOAD_CPU[4]=$(awk -v all="$(seconds "$all_before" "$all_after")" -v servers="$servers" -v lg="$lg_cpu" \
      'BEGIN {printf "%.2f", all - servers - lg}')
  fi
  return 0
}

# write_config FILE CONFIG PORT ADMIN DATA_DIR: a gateway config; CONFIG local or redis adds the
# plugin with that store.
write_config() {
  cat > "$1" <<EOF
server:
  listen: "127.0.0.1:$3"
  admin_listen: "127.0.0.1:$4"
  http_provider: "$PROVIDER"
  access_log: $([[ $ACCESS_LOG == on ]] && echo true || echo false)
  plugins_dir: "$PLUGINS"
  data_dir: "$5"
  shutdown_grace: 5s
relay:
  enabled: false       # plain upstreams only: no relay session competing for the CPU
upstreams:
  backend: "http://127.0.0.1:$BACKEND_PORT"
EOF
  [[ "$2" == off ]] && return 0
  cat >> "$1" <<EOF
plugins:
  ratelimit-token-cost:
    store: $2
EOF
  if [[ "$2" == redis ]]; then
    cat >> "$1" <<EOF
    redis: { url: "redis://127.0.0.1:$REDIS_PORT"${REDIS_POOL_SIZE:+, pool_size: $REDIS_POOL_SIZE} }
    on_store_failure: closed     # a Redis failure answers 503, which fails the run, instead of passing fast
EOF
  fi
  cat >> "$1" <<EOF
    requests:                    # never refuses: every request takes a token from each of the three
      per_client_ip: { rate_per_second: $LIMIT, burst: $LIMIT }
      per_lease: { rate_per_second: $LIMIT, burst: $LIMIT }
      global: { rate_per_second: $LIMIT, burst: $LIMIT }
EOF
}

free_port; REDIS_PORT=$REPLY
mkdir -p "$OUT/redis"
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$OUT/redis" \
  > "$OUT/redis.log" 2>&1 &
REDIS_PID=$!
STARTED_PIDS+=("$REDIS_PID")
redis_up=""
for _ in $(seq 1 100); do
  if [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | tr -d '\r')" == PONG ]]; then redis_up=1; break; fi
  kill -0 "$REDIS_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$redis_up" ]] || fail "redis-server did not start: $(tail -5 "$OUT/redis.log")"
echo "redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"

start_bench_backend 3h
echo "backend on 127.0.0.1:$BACKEND_PORT"

# probe URL FILE: one GET; writes its response head to FILE and sets PROBE_CODE and PROBE_LIMIT
# (the RateLimit-Limit value, empty when there is none).
probe() {
  curl -s -D "$2" -o /dev/null --max-time 10 "$1" > /dev/null 2>&1 || true
  PROBE_CODE=$(tr -d '\r' < "$2" 2>/dev/null | awk 'NR == 1 {print $2}')
  PROBE_LIMIT=$(tr -d '\r' < "$2" 2>/dev/null | awk -F': *' 'tolower($1) == "ratelimit-limit" {print $2; exit}')
}

# check_probe TAG CONFIG WHEN: fails unless the last probe answered 200, with RateLimit-Limit
# equal to the configured burst when the plugin is on, and without it when it is off.
check_probe() {
  [[ "$PROBE_CODE" == 200 ]] || fail "$1: the probe $3 the load got ${PROBE_CODE:-no answer}, not 200"
  if [[ "$2" == off ]]; then
    [[ -z "$PROBE_LIMIT" ]] || fail "$1: the probe $3 the load has RateLimit-Limit: $PROBE_LIMIT, but the plugin should be off"
  else
    [[ "$PROBE_LIMIT" == "$LIMIT" ]] \
      || fail "$1: the probe $3 the load has RateLimit-Limit '${PROBE_LIMIT}', not $LIMIT: is the plugin on?"
  fi
}

# gateway_run ROUND ORDER CONFIG CONNECTIONS: a fresh gateway, the checks, the load, the checks.
gateway_run() {
  local round=$1 order=$2 config=$3 conns=$4 notes=""
  local tag="r$round-$config-c$conns"
  local dir=$OUT/$tag
  mkdir -p "$dir/data"
  free_port; local port=$REPLY
  free_port; local admin=$REPLY
  write_config "$dir/gateway.yaml" "$config" "$port" "$admin" "$dir/data"
  # The access log goes to stdout, here a file, as in run-http-providers.sh.
  "$JAVA" -jar "$DIST/portal-gateway.jar" --config "$dir/gateway.yaml" > "$dir/gateway.log" 2>&1 &
  local gw=$!
  STARTED_PIDS+=("$gw")
  local up=""
  for _ in $(seq 1 150); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$admin/healthz" > /dev/null 2>&1; then up=1; break; fi
    kill -0 "$gw" 2>/dev/null || break
    sleep 0.2
  done
  [[ -n "$up" ]] || fail "$tag: gateway did not become healthy; log tail: $(tail -5 "$dir/gateway.log")"

  # Redis's counters from here to after the last probe: everything this gateway sent it.
  local scripts_before commands_before
  scripts_before=$(redis_scripts); commands_before=$(redis_commands)
  [[ -n "$scripts_before" && -n "$commands_before" ]] || fail "$tag: cannot read Redis's INFO (is redis-server still up?)"

  local url="http://127.0.0.1:$port/peer/backend/x"
  probe "$url" "$dir/probe-before.txt"
  check_probe "$tag" "$config" before

  echo "  $tag" >&2
  load "gateway-ratelimit-$config" "$url" "$conns" "$dir/load.txt" "$gw"

  local errors non2xx warmup_errors stuck requests sent
  errors=$(field errors "$LOAD_RESULT"); non2xx=$(field non2xx "$LOAD_RESULT")
  warmup_errors=$(field warmup_errors "$LOAD_RESULT"); stuck=$(field stuck "$LOAD_RESULT")
  requests=$(field requests "$LOAD_RESULT"); sent=$(field sent "$LOAD_RESULT")
  # Warm-up 503s pass only with --allow-warmup-503, only for "redis", and only if they were all.
  local warmup_503
  warmup_503=$(awk '/^  error during warm-up: [0-9]+ x HTTP 503$/ {n += $4} END {printf "%d", n}' "$dir/load.txt")
  local warmup_ok=""
  [[ "$warmup_errors" == 0 ]] && warmup_ok=1
  [[ -n "$ALLOW_WARMUP_503" && $config == redis && "$warmup_errors" == "$warmup_503" ]] && warmup_ok=1
  if [[ "$errors" != 0 || "$non2xx" != 0 || -z "$warmup_ok" || "$stuck" != 0 || "${requests:-0}" == 0 ]]; then
    record "$round" "$order" "$config" "$conns" "$warmup_503" "" "" "load failed"
    local hint=""
    [[ $config == redis && "$warmup_errors" == "$warmup_503" && -z "$ALLOW_WARMUP_503" ]] \
      && hint="; only warm-up 503s: see --allow-warmup-503"
    fail "$tag: the load got errors=$errors non2xx=$non2xx warmup_errors=$warmup_errors stuck=$stuck requests=$requests (see $dir/load.txt)$hint"
  fi

  probe "$url" "$dir/probe-after.txt"
  check_probe "$tag" "$config" after
  local scripts_after commands_after
  scripts_after=$(redis_scripts); commands_after=$(redis_commands)
  local scripts=$(( scripts_after - scripts_before )) commands=$(( commands_after - commands_before ))

  curl -fsS --max-time 5 "http://127.0.0.1:$admin/metrics" > "$dir/metrics.txt" 2>/dev/null \
    || fail "$tag: /metrics failed"
  local failures limited
  failures=$(samples "$dir/metrics.txt" "${METRIC}store_failures_total")
  limited=$(samples "$dir/metrics.txt" "${METRIC}limited_total")
  case "$config" in
    off)
      ! grep -q "^$METRIC" "$dir/metrics.txt" \
        || fail "$tag: /metrics has ratelimit-token-cost samples, but the plugin should be off"
      (( scripts == 0 )) || fail "$tag: Redis ran $scripts scripts during an 'off' run: something else uses it"
      ;;
    local)
      (( scripts == 0 )) || fail "$tag: Redis ran $scripts scripts during a 'local' run: the plugin should not use it"
      ;;
    redis)
      # One script per request for all three buckets, the two probes' included.
      # Requests refused for a store failure ran none (the breaker was open).
      local expected=$(( sent + 2 ))
      (( scripts >= sent - warmup_503 )) \
        || fail "$tag: Redis ran $scripts rate-limit scripts, fewer than 1 per request sent ($sent sent): is the store Redis?"
      (( scripts <= expected + 100 )) \
        || fail "$tag: Redis ran $scripts rate-limit scripts for $sent requests: more than one per request"
      notes+="Redis ran $scripts scripts for $sent requests + 2 probes ($expected expected), $commands commands in all; "
      ;;
  esac
  # Under on_store_failure: closed every store failure is one 503, so the counts must agree.
  local failed
  failed=$(awk '{n += $NF} END {printf "%d", n}' <<<"$failures")
  (( failed == warmup_503 )) \
    || fail "$tag: the plugin counted $failed store failures, the load $warmup_503 warm-up 503s: $(tr '\n' ' ' <<<"$failures")"
  if (( warmup_503 > 0 )); then
    # When, after the gateway started serving, the first failure was logged, and why.
    local serving_line failure_line serving_at failed_at
    serving_line=$(grep -m 1 '"msg":"Portal Gateway is serving"' "$dir/gateway.log" || true)
    failure_line=$(grep -m 1 '"msg":"rate-limit store unavailable"' "$dir/gateway.log" || true)
    serving_at=$(date -d "$(sed -n 's/^{"ts":"\([^"]*\)".*/\1/p' <<<"$serving_line")" +%s.%N 2>/dev/null || echo 0)
    failed_at=$(date -d "$(sed -n 's/^{"ts":"\([^"]*\)".*/\1/p' <<<"$failure_line")" +%s.%N 2>/dev/null || echo 0)
    notes+="WARM-UP 503s: $warmup_503 (store_failures_total $failed; the first logged"
    notes+=" $(awk -v a="$serving_at" -v b="$failed_at" 'BEGIN {printf "%.1f", b - a}') s after the gateway started serving:"
    notes+=" $(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' <<<"$failure_line")); "
  fi
  [[ -z "$limited" ]] || fail "$tag: the plugin refused requests: $(tr '\n' ' ' <<<"$limited")"
  local classes
  classes=$(grep '^portal_gateway_requests_total{' "$dir/metrics.txt" 2>/dev/null \
    | sed -n 's/.*status_class="\([^"]*\)".* \([0-9.E+]*\)$/\1=\2/p' | tr '\n' ' ' | sed 's/ $//' || true)
  [[ -n "$classes" ]] && notes+="statuses: $classes; "

  kill -TERM "$gw" 2>/dev/null || true
  local stopped=""
  for _ in $(seq 1 200); do
    kill -0 "$gw" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
  done
  [[ -n "$stopped" ]] || { notes+="did not exit within 20 s of SIGTERM; "; kill -KILL "$gw" 2>/dev/null || true; }
  local rc=0
  wait "$gw" 2>/dev/null || rc=$?
  forget_pid "$gw"
  [[ $rc == 0 || -z "$stopped" ]] || notes+="exit status $rc after SIGTERM; "

  if [[ $config != off ]]; then
    grep -q "\"msg\":\"rate limits active\",\"store\":\"$config\"" "$dir/gateway.log" \
      || fail "$tag: the gateway did not log 'rate limits active' with store $config (see $dir/gateway.log)"
  fi
  (( warmup_503 > 0 )) || ! grep -q 'rate-limit store unavailable' "$dir/gateway.log" \
    || fail "$tag: the gateway logged 'rate-limit store unavailable' (see $dir/gateway.log)"
  local warnings
  warnings=$(grep -c '"level":"\(WARNING\|ERROR\)"' "$dir/gateway.log" || true)
  [[ "$warnings" != 0 ]] && notes+="$warnings warning/error log lines; "
  if [[ $ACCESS_LOG == on ]]; then
    # Keep a sample and the count, not the whole log: it is tens of megabytes per run.
    local lines
    lines=$(grep -c '"logger":"access"' "$dir/gateway.log" || true)
    notes+="access log lines: $lines; "
    grep -m 20 '"logger":"access"' "$dir/gateway.log" > "$dir/access-sample.log" || true
    grep -v '"logger":"access"' "$dir/gateway.log" > "$dir/gateway.log.other" || true
    mv "$dir/gateway.log.other" "$dir/gateway.log"
  fi
  record "$round" "$order" "$config" "$conns" "$warmup_503" "$scripts" "$commands" "${notes%; }"
  echo "    $(field rps "$LOAD_RESULT") req/s" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  # Rotate: round 1 off local redis, round 2 local redis off, round 3 redis off local, ...
  order=()
  for i in 0 1 2; do order+=("${CONFIGS[$(( (round - 1 + i) % 3 ))]}"); done
  echo "round $round of $ROUNDS: ${order[*]}"
  for conns in $CONNECTIONS; do
    for config in "${order[@]}"; do
      gateway_run "$round" "$(IFS=,; echo "${order[*]}")" "$config" "$conns"
    done
  done
done

# Redis must still be the process it was, serving: a restart would have lost the scripts.
kill -0 "$REDIS_PID" 2>/dev/null || fail "redis-server exited during the run: $(tail -5 "$OUT/redis.log")"
redis_info server | grep -E '^(redis_version|uptime_in_seconds):' > "$OUT/redis-server.txt" || true
redis_info commandstats > "$OUT/redis-commandstats.txt" || true

# The tables: requests/s of every round, the median per configuration, and local/off and
# redis/off of the medians; then latency and CPU per request (a process's CPU over the measured
# window divided by the 2xx responses in it), medians over rounds.
awk -F'\t' -v rounds="$ROUNDS" -v limit="$(awk -v d="$DURATION" 'BEGIN {print 0.15 * d}')" '
  function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function us(list) { return list == "" ? "-" : sprintf("%.0f", median(list)) }
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    r = $col["round"]; cf = $col["config"]; n = $col["connections"]; k = cf SUBSEP n
    if (!(n in seen)) { seen[n] = 1; conns[++nc] = n }
    order[r] = $col["order"]
    rps[cf, n, r] = $col["rps"]
    all[k] = all[k] " " $col["rps"]; p50[k] = p50[k] " " $col["p50_ms"]; p99[k] = p99[k] " " $col["p99_ms"]
    req = $col["requests"]
    if (req > 0 && $col["gateway_cpu_s"] != "") gw[k] = gw[k] " " ($col["gateway_cpu_s"] * 1e6 / req)
    if (req > 0 && $col["redis_cpu_s"] != "") rd[k] = rd[k] " " ($col["redis_cpu_s"] * 1e6 / req)
    if ($col["redis_cpu_s"] != "") rds[k] = rds[k] " " $col["redis_cpu_s"]
    if ($col["others_cpu_s"] != "") others[k] = others[k] " " $col["others_cpu_s"]
    if ($col["sent"] > 0 && $col["redis_scripts"] != "") spr[k] = spr[k] " " ($col["redis_scripts"] / ($col["sent"] + 2))
    if ($col["others_cpu_s"] + 0 > limit + 0)
      competed = competed sprintf("%sround %s %s c%s (%.1f s)", competed == "" ? "" : ", ", r, cf, n, $col["others_cpu_s"])
    if ($col["warmup_503"] > 0)
      refused = refused sprintf("%sround %s %s c%s (%d)", refused == "" ? "" : ", ", r, cf, n, $col["warmup_503"])
    if ($col["notes"] != "") notes[++nn] = "round " r ", " cf ", " n " connections: " $col["notes"]
  }
  END {
    print "| connections | round (order) | off requests/s | local requests/s | redis requests/s | local/off | redis/off |"
    print "|---:|---|---:|---:|---:|---:|---:|"
    for (c = 1; c <= nc; c++) {
      n = conns[c]
      for (r = 1; r <= rounds; r++) {
        o = order[r]; gsub(",", ", ", o)
        printf "| %s | %d (%s) | %.0f | %.0f | %.0f | %.1f %% | %.1f %% |\n", n, r, o, rps["off", n, r], rps["local", n, r],
          rps["redis", n, r], 100 * rps["local", n, r] / rps["off", n, r], 100 * rps["redis", n, r] / rps["off", n, r]
      }
      off = median(all["off" SUBSEP n]); loc = median(all["local" SUBSEP n]); red = median(all["redis" SUBSEP n])
      printf "| %s | **median** | **%.0f** | **%.0f** | **%.0f** | **%.1f %%** | **%.1f %%** |\n", n, off, loc, red,
        100 * loc / off, 100 * red / off
      verdict[c] = sprintf("%s connections, medians: local/off %.1f %%, redis/off %.1f %%", n, 100 * loc / off, 100 * red / off)
    }
    print ""
    print "| connections | config | p50 ms | p99 ms | gateway CPU us/req | Redis CPU us/req | Redis CPU s | Redis scripts/req | others CPU s |"
    print "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    for (c = 1; c <= nc; c++)
      for (i = 1; i <= 3; i++) {
        cf = i == 1 ? "off" : i == 2 ? "local" : "redis"; k = cf SUBSEP conns[c]
        printf "| %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s |\n", conns[c], cf, median(p50[k]), median(p99[k]), us(gw[k]),
          cf == "redis" ? us(rd[k]) : "-", rds[k] == "" ? "-" : sprintf("%.2f", median(rds[k])),
          spr[k] == "" ? "-" : sprintf("%.2f", median(spr[k])), others[k] == "" ? "-" : sprintf("%.2f", median(others[k]))
      }
    print ""
    print "(medians over " rounds " rounds; CPU figures are for the measured window, per 2xx response in it)"
    print ""
    for (c = 1; c <= nc; c++) print "- " verdict[c]
    if (refused != "")
      print "- WARNING: 503s during the warm-up (store failures under on_store_failure: closed, allowed by --allow-warmup-503; the measured windows had none): " refused
    if (competed != "")
      print "- WARNING: other work took more than " limit " CPU-seconds (0.15 per measured second; the kernel'"'"'s own loopback work is about 0.06) in these measured windows, so they competed with the benchmark: " competed
    else
      print "- nothing else took more than " limit " CPU-seconds (0.15 per measured second) in any measured window"
    for (i = 1; i <= nn; i++) print "- " notes[i]
  }' "$OUT/results.tsv" > "$OUT/summary.md"

echo
cat "$OUT/machine.txt"
echo
cat "$OUT/summary.md"
echo
echo "results: $OUT"
