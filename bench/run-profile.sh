#!/usr/bin/env bash
# A JFR profile of the gateway's proxy path under load: one gateway (relay disabled, one
# upstream, no plugins unless --auth says so, the access log on as by default) proxying GET /peer/backend/x to
# BenchBackend, loaded by LoadGenerator; JFR (settings=profile) records the gateway during the
# measured window only, started with jcmd when the load generator prints MEASURING, so neither
# start-up nor the JIT's warm-up is in it. Then bench/jfr-top.py and `jfr view` summarise it.
#
# Usage: bench/run-profile.sh [--dist DIR] [--bench-jar FILE] [--connections 16] [--warmup 15]
#          [--duration 30] [--provider jdk] [--access-log on] [--auth none|sso-oauth] [--tokens 10000] [--out DIR]
#
#   --dist DIR        a laid-out dist/ (default dist/; build it first with ./mvnw -q package -DskipTests)
#   --bench-jar FILE  LoadGenerator and BenchBackend (default bench/target/benchmarks.jar)
#   --warmup/--duration  seconds of load before recording, and recorded (default 15 and 30)
#   --provider NAME   server.http_provider (default jdk, the default)
#   --access-log on|off  server.access_log (default on, the default)
#   --auth sso-oauth  profile the bearer route instead: plugins.sso-oauth trusting BenchIssuer, and
#                     each request carrying the next of --tokens distinct RS256 tokens (as
#                     run-auth-apikey.sh --auth sso-oauth does); default none (no plugins)
#
# Results land in bench/results/profile-TIMESTAMP/ (or --out): gateway.jfr, profile.md (the
# load's RESULT line, jfr-top.py's tables, `jfr view` of GC, contention and allocation), the
# config, the logs and machine.txt. It fails (exit 1) if the gateway does not start or the load
# saw an error or a non-2xx answer. A run takes warm-up plus duration plus about 10 s.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=$REPO/dist
BENCH_JAR=""
CONNECTIONS=16
WARMUP=15
DURATION=30
PROVIDER=jdk
ACCESS_LOG=on
OUT=""
AUTH=none
TOKENS=10000

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --provider) PROVIDER=$2; shift 2 ;;
    --access-log) ACCESS_LOG=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --auth) AUTH=$2; shift 2 ;;
    --tokens) TOKENS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-profile: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "run-profile: FAILED: $*" >&2; exit 1; }

[[ $AUTH == none || $AUTH == sso-oauth ]] || fail "--auth is none or sso-oauth, not '$AUTH'"
[[ "$TOKENS" =~ ^[1-9][0-9]*$ ]] || fail "--tokens must be a positive number"
source "$REPO/bench/lib.sh"
pick_jdk
BENCH_JAR=${BENCH_JAR:-$REPO/bench/target/benchmarks.jar}
[[ -f "$DIST/portal-gateway.jar" ]] || fail "$DIST/portal-gateway.jar is missing"
[[ -f "$BENCH_JAR" ]] || fail "$BENCH_JAR is missing; build with ./mvnw -q package -DskipTests"
[[ -x "$JDK_HOME/bin/jcmd" && -x "$JDK_HOME/bin/jfr" ]] || fail "$JDK_HOME has no jcmd or jfr"

OUT=${OUT:-$REPO/bench/results/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/data" "$OUT/empty-plugins"
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpus: $(nproc) ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "load: $CONNECTIONS connections, ${WARMUP}s warm-up, ${DURATION}s recorded; provider $PROVIDER, access log $ACCESS_LOG, auth $AUTH"
} | tee "$OUT/machine.txt"

start_bench_backend 1h

PLUGINS_DIR=$OUT/empty-plugins
LOAD_HEADERS=()
if [[ $AUTH == sso-oauth ]]; then
  [[ -f "$DIST/plugins/sso-oauth.jar" ]] || fail "$DIST/plugins/sso-oauth.jar is missing"
  PLUGINS_DIR=$DIST/plugins
  start_bench_issuer "$TOKENS"
  LOAD_HEADERS=(--header-file "$OUT/tokens.txt")
fi

free_port; PORT=$REPLY
free_port; ADMIN=$REPLY
cat > "$OUT/gateway.yaml" <<EOF
server:
  listen: "127.0.0.1:$PORT"
  admin_listen: "127.0.0.1:$ADMIN"
  http_provider: "$PROVIDER"
  access_log: $([[ $ACCESS_LOG == on ]] && echo true || echo false)
  plugins_dir: "$PLUGINS_DIR"
  data_dir: "$OUT/data"
relay:
  enabled: false
upstreams:
  backend: "http://127.0.0.1:$BACKEND_PORT"
EOF
if [[ $AUTH == sso-oauth ]]; then
  cat >> "$OUT/gateway.yaml" <<EOF
plugins:
  sso-oauth:
    issuers: ["$ISSUER"]
    audiences: ["bench-gateway"]
EOF
fi
# The access log goes to a file, as in the other scripts; it is dropped at the end (tens of MB).
"$JAVA" -jar "$DIST/portal-gateway.jar" --config "$OUT/gateway.yaml" > "$OUT/gateway.log" 2>&1 &
GATEWAY_PID=$!
STARTED_PIDS+=("$GATEWAY_PID")
up=""
for _ in $(seq 1 150); do
  if curl -fsS --max-time 1 "http://127.0.0.1:$ADMIN/healthz" > /dev/null 2>&1; then up=1; break; fi
  kill -0 "$GATEWAY_PID" 2>/dev/null || break
  sleep 0.2
done
[[ -n "$up" ]] || fail "gateway did not become healthy: $(tail -5 "$OUT/gateway.log")"
probe=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/peer/backend/x" || true)
if [[ $AUTH == sso-oauth ]]; then
  [[ "$probe" == 401 ]] || fail "a request without a token answered $probe, not 401: is the plugin on?"
  # The header is read from standard input, so that the token stays off curl's command line.
  probe=$(head -1 "$OUT/tokens.txt" | curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H @- \
    "http://127.0.0.1:$PORT/peer/backend/x" || true)
fi
[[ "$probe" == 200 ]] || fail "probe answered $probe"

"$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.LoadGenerator --url "http://127.0.0.1:$PORT/peer/backend/x" \
  --connections "$CONNECTIONS" --warmup "${WARMUP}s" --duration "${DURATION}s" --label "profile-$PROVIDER-$AUTH" \
  ${LOAD_HEADERS[@]+"${LOAD_HEADERS[@]}"} \
  > "$OUT/load.txt" 2>&1 &
LOAD_PID=$!
STARTED_PIDS+=("$LOAD_PID")
wait_for_match "$OUT/load.txt" '^MEASURING' $(( WARMUP + 30 )) "$LOAD_PID" || fail "the load never started measuring"
"$JDK_HOME/bin/jcmd" "$GATEWAY_PID" JFR.start name=profile settings=profile duration="${DURATION}s" \
  filename="$OUT/gateway.jfr" > "$OUT/jcmd.txt" 2>&1 || fail "JFR.start failed: $(cat "$OUT/jcmd.txt")"
gw_before=$(cpu_ticks "$GATEWAY_PID"); be_before=$(cpu_ticks "$BACKEND_PID"); all_before=$(busy_ticks)
wait_for_match "$OUT/load.txt" '^MEASURED' $(( DURATION + 30 )) "$LOAD_PID" || fail "the load never finished measuring"
gw_after=$(cpu_ticks "$GATEWAY_PID"); be_after=$(cpu_ticks "$BACKEND_PID"); all_after=$(busy_ticks)
wait "$LOAD_PID" || true
forget_pid "$LOAD_PID"
# The recording is written when its duration ends, a moment after the load's window closes.
for _ in $(seq 1 100); do
  [[ -s "$OUT/gateway.jfr" ]] && ! "$JDK_HOME/bin/jcmd" "$GATEWAY_PID" JFR.check 2>/dev/null | grep -q 'name=profile' && break
  sleep 0.2
done
kill -TERM "$GATEWAY_PID" 2>/dev/null || true
wait "$GATEWAY_PID" 2>/dev/null || true
forget_pid "$GATEWAY_PID"

RESULT=$(grep '^RESULT ' "$OUT/load.txt" || true)
[[ -n "$RESULT" ]] || fail "no RESULT from the load generator: $(tail -5 "$OUT/load.txt")"
[[ "$(field errors "$RESULT")" == 0 && "$(field non2xx "$RESULT")" == 0 ]] || fail "the load saw errors: $RESULT"
[[ -s "$OUT/gateway.jfr" ]] || fail "no recording at $OUT/gateway.jfr"
grep -v '"logger":"access"' "$OUT/gateway.log" > "$OUT/gateway.log.other" || true
mv "$OUT/gateway.log.other" "$OUT/gateway.log"

gw_cpu=$(seconds "$gw_before" "$gw_after")
be_cpu=$(seconds "$be_before" "$be_after")
all_cpu=$(seconds "$all_before" "$all_after")
# Everything but the gateway, the backend and the generator: far above a second, and another job competed.
others=$(awk -v a="$all_cpu" -v g="$gw_cpu" -v b="$be_cpu" -v l="$(field window_cpu_s "$RESULT")" 'BEGIN {printf "%.2f", a - g - b - l}')
{
  if [[ $AUTH == none ]]; then echo "# Profile of the no-plugin path"; else echo "# Profile of the $AUTH bearer route ($TOKENS tokens)"; fi
  echo
  sed 's/^/    /' "$OUT/machine.txt"
  echo
  echo "    $RESULT"
  echo "    recorded window: CPU s gateway ${gw_cpu}, backend ${be_cpu}, generator $(field window_cpu_s "$RESULT")," \
    "others ${others} (whole machine ${all_cpu} of $(( DURATION * $(nproc) )));" \
    "gateway CPU per request $(awk -v c="$gw_cpu" -v n="$(field requests "$RESULT")" 'BEGIN {printf "%.0f", n ? c * 1e6 / n : 0}') µs"
  "$REPO/bench/jfr-top.py" --jfr "$JDK_HOME/bin/jfr" --rps "$(field rps "$RESULT")" "$OUT/gateway.jfr"
  for view in gc-pauses contention-by-site allocation-by-class; do
    echo
    echo "## jfr view $view"
    echo '```'
    "$JDK_HOME/bin/jfr" view --width 160 "$view" "$OUT/gateway.jfr" 2>&1 | head -40
    echo '```'
  done
} > "$OUT/profile.md"
echo "profile: $OUT/profile.md"
