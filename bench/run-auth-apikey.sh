#!/usr/bin/env bash
# Throughput of the gateway with an authentication plugin off and on, in one run on one machine.
# Both configurations proxy GET /peer/backend/x to BenchBackend on loopback. With --auth apikey
# (the default), "on" enables plugins.auth-apikey with a keys file holding one key (made with the
# gateway's add-key command) and sends that key as "Authorization: Bearer ..." on every request.
# With --auth sso-oauth, "on" enables plugins.sso-oauth trusting BenchIssuer (a loopback issuer
# with discovery and a JWKS), and each request sends the next of --tokens distinct RS256 JWTs
# (LoadGenerator --header-file), so the plugin verifies many different tokens, not one. The two alternate within
# each round, and which goes first swaps from round to round (off, on | on, off | off, on ...),
# so that neither is favoured by a machine that speeds up or slows down during the run.
#
# Usage: bench/run-auth-apikey.sh [--auth apikey|sso-oauth] [--tokens 20000] [--dist DIR] [--bench-jar FILE] [--connections "16 64"]
#          [--rounds 3] [--warmup 10] [--duration 10] [--provider jdk] [--access-log on] [--pin] [--out DIR]
#
#   --auth NAME       the plugin measured: apikey (auth-apikey) or sso-oauth (default apikey)
#   --tokens N        sso-oauth: distinct tokens the load cycles through (default 20000, twice the
#                     plugin's default token cache: most requests need a signature check)
#   --dist DIR        a laid-out dist/ with portal-gateway.jar and plugins/auth-apikey.jar
#                     (default dist/; build it first with ./mvnw -q package -DskipTests)
#   --bench-jar FILE  LoadGenerator and BenchBackend (default bench/target/benchmarks.jar)
#   --rounds N        rounds; each runs both configurations at every connection count (default 3)
#   --warmup/--duration  seconds per run, before and while measuring (default 10 and 10)
#   --provider NAME   server.http_provider of both configurations (default jdk, the default)
#   --access-log on|off  server.access_log of both configurations (default on, the default)
#   --pin             the gateway on the last CPU, and everything else the script starts (backend,
#                     issuer, load generator, curl) on the others (taskset), so that the gateway
#                     under test does not share its CPU with the load: on a 2-core machine the
#                     spread from run to run is far smaller, and requests/s is the gateway's own
#
# It fails (exit 1) unless every run answered only 2xx with no connection error, the "on"
# gateway answered 401 to a request without the key and 200 with it, its plugin metrics counted
# the load's requests as allowed, and the "off" gateway had no auth-apikey metrics at all.
# The key is never printed or written to a file; only its bcrypt hash is, in the keys file. It
# is on the load generator's command line, so local users who can list processes can see it
# while the script runs: it is a throwaway key for a gateway on loopback.
#
# Results land in bench/results/auth-apikey-TIMESTAMP/ (or --out): summary.md with the tables,
# results.tsv with every run, machine.txt, and each run's config, gateway log, load output and
# /metrics snapshot. Each run takes warm-up plus duration plus about 3 s; the defaults (3 rounds,
# 2 connection counts, 2 configurations) take about 5 minutes.
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
OUT=""
AUTH=apikey
TOKENS=20000
PIN=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --auth) AUTH=$2; shift 2 ;;
    --tokens) TOKENS=$2; shift 2 ;;
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --provider) PROVIDER=$2; shift 2 ;;
    --access-log) ACCESS_LOG=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --pin) PIN=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-auth-apikey: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-auth-apikey: FAILED: $*" >&2; exit 1; }

source "$REPO/bench/lib.sh"
pick_jdk

[[ "$ACCESS_LOG" == on || "$ACCESS_LOG" == off ]] || fail "--access-log is on or off, not '$ACCESS_LOG'"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive number"
BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
DIST=$(cd "$DIST" 2>/dev/null && pwd) || fail "no directory $DIST; build with ./mvnw -q package -DskipTests"
[[ -f "$DIST/portal-gateway.jar" ]] || fail "$DIST/portal-gateway.jar is missing; build with ./mvnw -q package -DskipTests"
case "$AUTH" in
  apikey) PLUGIN=auth-apikey ;;
  sso-oauth) PLUGIN=sso-oauth ;;
  *) fail "--auth is apikey or sso-oauth, not '$AUTH'" ;;
esac
[[ "$TOKENS" =~ ^[1-9][0-9]*$ ]] || fail "--tokens must be a positive number"
[[ -f "$DIST/plugins/$PLUGIN.jar" ]] || fail "$DIST/plugins/$PLUGIN.jar is missing; build with ./mvnw -q package -DskipTests"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"
command -v curl > /dev/null || fail "curl is needed for the probes"
GATEWAY_CPU_LIST=""
CPUS=$(nproc) # before pinning: nproc counts only the CPUs this shell may use
if [[ -n "$PIN" ]]; then
  command -v taskset > /dev/null || fail "--pin needs taskset (util-linux)"
  (( CPUS >= 2 )) || fail "--pin needs at least 2 CPUs"
  GATEWAY_CPU_LIST=$(( CPUS - 1 ))
  # This shell, and so every process it starts from now on, runs on the other CPUs.
  taskset -pc "0-$(( CPUS - 2 ))" $$ > /dev/null
fi

OUT=${OUT:-$REPO/bench/results/$PLUGIN-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# Both configurations load the same plugins directory, holding only the measured plugin's jar:
# they differ in the plugins: section alone, not in what the gateway finds at start-up.
PLUGINS=$OUT/plugins
mkdir -p "$PLUGINS"
ln -sf "$DIST/plugins/$PLUGIN.jar" "$PLUGINS/$PLUGIN.jar"
KEYS_FILE=$OUT/keys/keys.yaml     # absolute: the same file for every "on" gateway
mkdir -p "$OUT/keys"

trap cleanup EXIT
trap 'exit 130' INT TERM

# metric FILE NAME [LABEL]: the value of the first sample of NAME in a /metrics snapshot whose
# labels include LABEL (such as outcome="allowed"), or nothing.
metric() {
  awk -v n="$2" -v l="${3:-}" '
    (index($0, n " ") == 1 || index($0, n "{") == 1) && index($0, l) {print $NF; exit}' "$1" 2>/dev/null || true
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "${BENCH_SOURCE:-unknown}")$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo " with uncommitted changes")"
  echo "cpus: $CPUS ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "warmup: ${WARMUP}s, measure: ${DURATION}s, rounds: $ROUNDS, connections: $CONNECTIONS"
  echo "http_provider: $PROVIDER, access log: $ACCESS_LOG, relay: off, plugin: $PLUGIN$([[ $AUTH == sso-oauth ]] && echo ", $TOKENS distinct tokens")"
  echo "pinned: $([[ -n "$PIN" ]] && echo "gateway on CPU $GATEWAY_CPU_LIST, the rest on CPUs 0-$(( CPUS - 2 ))" || echo no)"
  # Anything already busy on the machine will compete with the runs: say how much there is.
  b0=$(busy_ticks); sleep 3; b1=$(busy_ticks)
  echo "machine busy before the runs: $(seconds "$b0" "$b1") CPU-seconds in 3 s (of $(( 3 * CPUS )))"
} | tee "$OUT/machine.txt"

printf '%s\n' "round	config	connections	rps	p50_ms	p90_ms	p99_ms	max_ms	errors	non2xx	warmup_errors	connects	stuck	requests	gateway_cpu_s	backend_cpu_s	loadgen_cpu_s	others_cpu_s	notes" \
  > "$OUT/results.tsv"

# record ROUND CONFIG CONNECTIONS NOTES: one results.tsv row from LOAD_RESULT and LOAD_CPU.
record() {
  local line=$LOAD_RESULT
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
    "$(field rps "$line")" "$(field p50_ms "$line")" "$(field p90_ms "$line")" "$(field p99_ms "$line")" \
    "$(field max_ms "$line")" "$(field errors "$line")" "$(field non2xx "$line")" "$(field warmup_errors "$line")" \
    "$(field connects "$line")" "$(field stuck "$line")" "$(field requests "$line")" "${LOAD_CPU[0]:-}" \
    "${LOAD_CPU[1]:-}" "${LOAD_CPU[2]:-}" "${LOAD_CPU[3]:-}" "$4" >> "$OUT/results.tsv"
}

# load LABEL URL CONNECTIONS LOGFILE GATEWAY_PID [HEADER...]: runs the load generator, each
# HEADER sent with every request. Sets LOAD_RESULT to its RESULT line, and LOAD_CPU to the CPU
# seconds that the gateway, the backend, the generator and everything else on the machine used
# while it measured. The generator stops by itself; the bounded waits are a second fence.
load() {
  local label=$1 url=$2 conns=$3 log=$4 gw=$5 h
  shift 5
  local header_args=()
  for h in "$@"; do
    if [[ "$h" == @* ]]; then header_args+=(--header-file "${h#@}"); else header_args+=(--header "$h"); fi
  done
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.LoadGenerator \
    --url "$url" --connections "$conns" --warmup "${WARMUP}s" --duration "${DURATION}s" --label "$label" \
    ${header_args[@]+"${header_args[@]}"} > "$log" 2>&1 &
  local lg=$! gw_before=0 gw_after=0 be_before="" be_after="" all_before="" all_after=""
  STARTED_PIDS+=("$lg")
  if wait_for_line "$log" MEASURING $(( WARMUP + 30 )) "$lg"; then
    gw_before=$(cpu_ticks "$gw"); be_before=$(cpu_ticks "$BACKEND_PID"); all_before=$(busy_ticks)
    if wait_for_line "$log" MEASURED $(( DURATION + 30 )) "$lg"; then
      gw_after=$(cpu_ticks "$gw"); be_after=$(cpu_ticks "$BACKEND_PID"); all_after=$(busy_ticks)
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
  LOAD_CPU=("" "" "" "")
  local lg_cpu
  lg_cpu=$(field window_cpu_s "$LOAD_RESULT")
  if [[ -n "$all_after" && -n "$lg_cpu" ]]; then
    LOAD_CPU[0]=$(seconds "$gw_before" "$gw_after")
    LOAD_CPU[1]=$(seconds "$be_before" "$be_after")
    LOAD_CPU[2]=$lg_cpu
    local servers
    servers=$(seconds 0 $(( gw_after - gw_before + be_after - be_before )))
    LOAD_CPU[3]=$(awk -v all="$(seconds "$all_before" "$all_after")" -v servers="$servers" -v lg="$lg_cpu" \
      'BEGIN {printf "%.2f", all - servers - lg}')
  fi
  return 0
}

# write_config FILE CONFIG PORT ADMIN DATA_DIR: a gateway config; CONFIG "on" adds the plugin.
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
  if [[ "$2" == on && $AUTH == apikey ]]; then
    cat >> "$1" <<EOF
plugins:
  auth-apikey:
    keys_file: "$KEYS_FILE"
EOF
  elif [[ "$2" == on ]]; then
    cat >> "$1" <<EOF
plugins:
  sso-oauth:
    issuers: ["$ISSUER"]
    audiences: ["bench-gateway"]
EOF
  fi
}

start_bench_backend 3h
echo "backend on 127.0.0.1:$BACKEND_PORT"

if [[ $AUTH == sso-oauth ]]; then
  start_bench_issuer "$TOKENS"
  TOKENS_FILE=$OUT/tokens.txt
  FIRST_TOKEN=$(head -1 "$TOKENS_FILE")
  echo "issuer $ISSUER, $(wc -l < "$TOKENS_FILE") tokens"
else
# The key, made once with the gateway's own command against an "on" config, for every "on" run.
# add-key prints it on standard output, among other lines; only the first line (the id) is kept.
mkdir -p "$OUT/keygen-data"
write_config "$OUT/keygen.yaml" on 1 2 "$OUT/keygen-data"
ADD_KEY_OUT=$("$JAVA" -jar "$DIST/portal-gateway.jar" add-key --name bench --generate --leases backend \
  --config "$OUT/keygen.yaml" 2> "$OUT/add-key.err") || fail "add-key failed: $(tail -5 "$OUT/add-key.err")"
KEY=$(sed -n 's/^export GATEWAY_KEY=//p' <<<"$ADD_KEY_OUT")
[[ "$KEY" == sk_live_* ]] || fail "add-key printed no 'export GATEWAY_KEY=sk_live_...' line"
head -1 <<<"$ADD_KEY_OUT" > "$OUT/add-key.out"
unset ADD_KEY_OUT
[[ -f "$KEYS_FILE" ]] || fail "add-key did not write $KEYS_FILE"
echo "$(cat "$OUT/add-key.out")"
fi

# probe URL [HEADER]: the status of one GET. The header is read from standard input, so that
# the key stays off curl's command line.
probe() {
  if [[ $# -gt 1 ]]; then
    printf '%s\n' "$2" | curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H @- "$1" || true
  else
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1" || true
  fi
}

# gateway_run ROUND CONFIG CONNECTIONS: a fresh gateway, the checks, the load, the checks.
gateway_run() {
  local round=$1 config=$2 conns=$3 notes=""
  local tag="r$round-$config-c$conns"
  local dir=$OUT/$tag
  mkdir -p "$dir/data"
  free_port; local port=$REPLY
  free_port; local admin=$REPLY
  write_config "$dir/gateway.yaml" "$config" "$port" "$admin" "$dir/data"
  # The access log goes to stdout, here a file, as in run-http-providers.sh.
  if [[ -n "$PIN" ]]; then
    taskset -c "$GATEWAY_CPU_LIST" "$JAVA" -jar "$DIST/portal-gateway.jar" --config "$dir/gateway.yaml" > "$dir/gateway.log" 2>&1 &
  else
    "$JAVA" -jar "$DIST/portal-gateway.jar" --config "$dir/gateway.yaml" > "$dir/gateway.log" 2>&1 &
  fi
  local gw=$!
  STARTED_PIDS+=("$gw")
  local up=""
  for _ in $(seq 1 150); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$admin/healthz" > /dev/null 2>&1; then up=1; break; fi
    kill -0 "$gw" 2>/dev/null || break
    sleep 0.2
  done
  [[ -n "$up" ]] || fail "$tag: gateway did not become healthy; log tail: $(tail -5 "$dir/gateway.log")"

  local url="http://127.0.0.1:$port/peer/backend/x" code headers=()
  if [[ $config == on ]]; then
    code=$(probe "$url")
    [[ "$code" == 401 ]] || fail "$tag: a request without a key got $code, not 401: is the plugin on?"
    if [[ $AUTH == apikey ]]; then
      code=$(probe "$url" "Authorization: Bearer $KEY")
      headers=("Authorization: Bearer $KEY")
    else
      code=$(probe "$url" "$FIRST_TOKEN")
      headers=("@$TOKENS_FILE")
    fi
    [[ "$code" == 200 ]] || fail "$tag: a request with the credential got $code, not 200"
    notes+="probes: 401 without a credential, 200 with one; "
  else
    code=$(probe "$url")
    [[ "$code" == 200 ]] || fail "$tag: a request without a key got $code, not 200"
  fi

  echo "  $tag" >&2
  load "gateway-$AUTH-$config" "$url" "$conns" "$dir/load.txt" "$gw" ${headers[@]+"${headers[@]}"}
  unset headers

  local errors non2xx warmup_errors stuck requests
  errors=$(field errors "$LOAD_RESULT"); non2xx=$(field non2xx "$LOAD_RESULT")
  warmup_errors=$(field warmup_errors "$LOAD_RESULT"); stuck=$(field stuck "$LOAD_RESULT")
  requests=$(field requests "$LOAD_RESULT")
  if [[ "$errors" != 0 || "$non2xx" != 0 || "$warmup_errors" != 0 || "$stuck" != 0 || "${requests:-0}" == 0 ]]; then
    record "$round" "$config" "$conns" "load failed"
    fail "$tag: the load got errors=$errors non2xx=$non2xx warmup_errors=$warmup_errors stuck=$stuck requests=$requests (see $dir/load.txt)"
  fi

  curl -fsS --max-time 5 "http://127.0.0.1:$admin/metrics" > "$dir/metrics.txt" 2>/dev/null \
    || fail "$tag: /metrics failed"
  local sent
  sent=$(field sent "$LOAD_RESULT")
  if [[ $config == on && $AUTH == sso-oauth ]]; then
    local ok
    ok=$(metric "$dir/metrics.txt" portal_gateway_sso_oauth_authentications_total 'result="ok"')
    [[ -n "$ok" ]] || fail "$tag: no sso-oauth 'ok' count in /metrics: was the plugin on?"
    awk -v a="$ok" -v r="$requests" 'BEGIN {exit !(a + 0 >= r + 0)}' \
      || fail "$tag: the plugin let $ok requests through, fewer than the $requests measured"
    notes+="plugin let $ok through (sent $sent + 1 probe); "
  elif [[ $config == on ]]; then
    # Proof that the plugin let the load through: it counted every request it allowed.
    local allowed missing bcrypt
    allowed=$(metric "$dir/metrics.txt" portal_gateway_auth_apikey_requests_total 'outcome="allowed"')
    missing=$(metric "$dir/metrics.txt" portal_gateway_auth_apikey_requests_total 'outcome="missing"')
    bcrypt=$(metric "$dir/metrics.txt" portal_gateway_auth_apikey_bcrypt_checks_total)
    [[ -n "$allowed" ]] || fail "$tag: no auth-apikey 'allowed' count in /metrics: was the plugin on?"
    awk -v a="$allowed" -v r="$requests" 'BEGIN {exit !(a + 0 >= r + 0)}' \
      || fail "$tag: the plugin allowed $allowed requests, fewer than the $requests measured"
    notes+="plugin allowed $allowed (sent $sent + 1 probe), missing key $missing, bcrypt checks $bcrypt; "
  else
    ! grep -q '^portal_gateway_auth_apikey_\|^portal_gateway_sso_oauth_' "$dir/metrics.txt" \
      || fail "$tag: /metrics has the plugin's metrics, but the plugin should be off"
  fi
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

  # The "on" probe without a key writes one auth_failure warning: expected. Count the rest.
  local warnings
  warnings=$(grep '"level":"\(WARNING\|ERROR\)"' "$dir/gateway.log" | grep -vc '"event":"auth_failure"' || true)
  [[ "$warnings" != 0 ]] && notes+="$warnings warning/error log lines besides the probe's auth_failure; "
  if [[ $ACCESS_LOG == on ]]; then
    local lines
    lines=$(grep -c '"logger":"access"' "$dir/gateway.log" || true)
    notes+="access log lines: $lines; "
    grep -m 20 '"logger":"access"' "$dir/gateway.log" > "$dir/access-sample.log" || true
    grep -v '"logger":"access"' "$dir/gateway.log" > "$dir/gateway.log.other" || true
    mv "$dir/gateway.log.other" "$dir/gateway.log"
  fi
  record "$round" "$config" "$conns" "${notes%; }"
  echo "    $(field rps "$LOAD_RESULT") req/s" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS"
  if (( round % 2 == 1 )); then order="off on"; else order="on off"; fi
  for conns in $CONNECTIONS; do
    for config in $order; do
      gateway_run "$round" "$config" "$conns"
    done
  done
done

# The tables: requests/s of every round, the median per configuration, and on/off of the
# medians; then latency and CPU per request (gateway CPU over the measured window divided by the
# 2xx responses in it), medians over rounds.
awk -F'\t' -v rounds="$ROUNDS" -v limit="$(awk -v d="$DURATION" 'BEGIN {print 0.15 * d}')" '
  function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR == 1 { next }
  {
    k = $2 SUBSEP $3
    if (!($3 in seen)) { seen[$3] = 1; conns[++nc] = $3 }
    rps[$2, $3, $1] = $4
    all[k] = all[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $7
    if ($14 > 0 && $15 != "") cpu[k] = cpu[k] " " ($15 * 1e6 / $14)
    if ($18 != "") others[k] = others[k] " " $18
    if ($18 + 0 > limit + 0) competed = competed sprintf("%sround %s %s c%s (%.1f s)", competed == "" ? "" : ", ", $1, $2, $3, $18)
    if ($19 != "") notes[++nn] = "round " $1 ", " $2 ", " $3 " connections: " $19
  }
  END {
    print "| connections | round | off requests/s | on requests/s | on/off |"
    print "|---:|---|---:|---:|---:|"
    for (c = 1; c <= nc; c++) {
      n = conns[c]
      for (r = 1; r <= rounds; r++)
        printf "| %s | %d | %.0f | %.0f | %.1f %% |\n", n, r, rps["off", n, r], rps["on", n, r], 100 * rps["on", n, r] / rps["off", n, r]
      off = median(all["off" SUBSEP n]); on = median(all["on" SUBSEP n])
      printf "| %s | **median** | **%.0f** | **%.0f** | **%.1f %%** |\n", n, off, on, 100 * on / off
      verdict[c] = sprintf("%s connections: on/off %.1f %% of the medians: %s", n, 100 * on / off, on >= 0.9 * off ? "within 10 %" : "NOT within 10 %")
    }
    print ""
    print "| connections | config | p50 ms | p99 ms | gateway CPU us/req | others CPU s |"
    print "|---:|---|---:|---:|---:|---:|"
    for (c = 1; c <= nc; c++)
      for (i = 1; i <= 2; i++) {
        cf = i == 1 ? "off" : "on"; k = cf SUBSEP conns[c]
        printf "| %s | %s | %.2f | %.2f | %s | %s |\n", conns[c], cf, median(p50[k]), median(p99[k]), cpu[k] == "" ? "-" : sprintf("%.0f", median(cpu[k])), others[k] == "" ? "-" : sprintf("%.2f", median(others[k]))
      }
    print ""
    print "(medians over " rounds " rounds)"
    print ""
    for (c = 1; c <= nc; c++) print "- " verdict[c]
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
