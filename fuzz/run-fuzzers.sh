#!/usr/bin/env bash
# Fuzzes the gateway's parsers with Jazzer, one fuzz test at a time, each for a fixed time.
#
#   fuzz/run-fuzzers.sh [--seconds N] [--target NAME]... [--list]
#
#   --seconds N    how long to fuzz each target (default 60)
#   --target NAME  fuzz only the targets whose name contains NAME (repeatable), such as
#                  RequestHeadFuzzTest.requestHead, YamuxFuzzTest or protoReader
#   --list         print the targets and exit
#
# Every @FuzzTest also runs in the ordinary test run (./mvnw verify), on the inputs committed
# under src/test/resources/<package>/<Class>Inputs/<method>/; this script is the fuzzing half.
# Per target it runs the module's test phase with JAZZER_FUZZ=1, Jazzer's comparison and
# sanitizer hooks on, and JAZZER_MAX_DURATION. Results:
#   - what the fuzzer ran (executions, coverage, corpus) and any finding, per target, in
#     fuzz/results/<time>/<target>.log, and one summary line per target on stdout and in
#     fuzz/results/<time>/summary.txt;
#   - the corpus it grows, in <module>/.cifuzz-corpus/<Class>/<method>/ (not committed; kept
#     between runs, so a second run starts where the first stopped);
#   - a crashing input, in the target's committed Inputs directory, as crash-<sha1>: from then on
#     the ordinary test run replays it and fails until the parser is fixed. Rename it to say what
#     it is when you fix the bug.
# Maven options (offline mode, a local repository) go in MAVEN_ARGS, which Maven reads itself:
#   MAVEN_ARGS="-o -Dmaven.repo.local=/tmp/m2" fuzz/run-fuzzers.sh --seconds 120
# The exit status is 1 when any target found something, 0 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

# module  test class (fully qualified)  method  [libraries to instrument too]
# Jazzer instruments the module's own classes for coverage; a target whose parsing happens in a
# library (Java-WebSocket's frame decoder, Jackson's YAML and JSON parsers) names it, so that the
# fuzzer sees coverage inside it as well.
TARGETS=(
  "gateway-host dev.portalgateway.host.front.RequestHeadFuzzTest requestHead"
  "gateway-host dev.portalgateway.host.front.RequestHeadFuzzTest requestWithBody"
  "gateway-host dev.portalgateway.host.http1.Http1FuzzTest responseHead"
  "gateway-host dev.portalgateway.host.http1.Http1FuzzTest chunkedDecoder"
  "gateway-host dev.portalgateway.host.http1.Http1FuzzTest chunkedRoundTrip"
  "gateway-host dev.portalgateway.host.config.ConfigFuzzTest gatewayYaml com.fasterxml.jackson.**,org.yaml.snakeyaml.**"
  "plugins/auth-apikey dev.portalgateway.plugins.apikey.KeysFileFuzzTest keysFile com.fasterxml.jackson.**,org.yaml.snakeyaml.**"
  "portal-protocol dev.portalgateway.portal.ws.WebSocketFuzzTest frames org.java_websocket.**"
  "portal-protocol dev.portalgateway.portal.ws.WebSocketFuzzTest byteStream"
  "portal-protocol dev.portalgateway.portal.yamux.YamuxFuzzTest header"
  "portal-protocol dev.portalgateway.portal.yamux.YamuxFuzzTest session"
  "portal-protocol dev.portalgateway.portal.wire.WireFuzzTest packetFraming"
  "portal-protocol dev.portalgateway.portal.wire.WireFuzzTest packets"
  "portal-protocol dev.portalgateway.portal.wire.WireFuzzTest messages"
  "portal-protocol dev.portalgateway.portal.wire.WireFuzzTest protoReader"
  "portal-protocol dev.portalgateway.portal.crypto.CryptoFuzzTest secureChannelFrames"
  "portal-protocol dev.portalgateway.portal.crypto.CryptoFuzzTest secureChannelTamper"
  "portal-protocol dev.portalgateway.portal.crypto.CryptoFuzzTest handshakeServerRaw"
  "portal-protocol dev.portalgateway.portal.crypto.CryptoFuzzTest handshakeSignedInit"
  "plugins/ratelimit-token-cost dev.portalgateway.plugins.ratelimit.ScannerFuzzTest eventStream"
  "plugins/ratelimit-token-cost dev.portalgateway.plugins.ratelimit.ScannerFuzzTest jsonBody com.fasterxml.jackson.core.**"
  "plugins/cache-mcp dev.portalgateway.plugins.cache.McpFuzzTest sseEvents"
  "plugins/cache-mcp dev.portalgateway.plugins.cache.McpFuzzTest mcpCall com.fasterxml.jackson.**"
  "plugins/cache-mcp dev.portalgateway.plugins.cache.McpFuzzTest mcpAnswers com.fasterxml.jackson.core.**"
)

seconds=60
filters=()
list=false
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --target) filters+=("$2"); shift 2 ;;
    --list) list=true; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "--seconds takes a whole number" >&2; exit 2 ;; esac

selected=()
for t in "${TARGETS[@]}"; do
  read -r module class method _ <<<"$t"
  name="${class##*.}.$method"
  if [ ${#filters[@]} -eq 0 ]; then
    selected+=("$t")
  else
    for f in "${filters[@]}"; do
      if [[ "$name" == *"$f"* ]]; then selected+=("$t"); break; fi
    done
  fi
done
if $list; then
  for t in "${selected[@]}"; do read -r module class method _ <<<"$t"; echo "${class##*.}.$method  ($module)"; done
  exit 0
fi
if [ ${#selected[@]} -eq 0 ]; then
  echo "no target matches ${filters[*]}; see --list" >&2
  exit 2
fi

results="fuzz/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"

# The modules under test and what they depend on, built and installed once (tests skipped).
modules=$(for t in "${selected[@]}"; do read -r module _ <<<"$t"; echo "$module"; done | sort -u | paste -sd, -)
echo "building $modules (and what they need) once, tests skipped"
./mvnw -q install -DskipTests -pl "$modules" -am > "$results/build.log" 2>&1 || {
  echo "build failed; see $results/build.log" >&2
  exit 2
}

findings=0
for t in "${selected[@]}"; do
  read -r module class method libraries <<<"$t"
  name="${class##*.}.$method"
  instrument="dev.portalgateway.**${libraries:+,$libraries}"
  log="$results/$name.log"
  inputs="$module/src/test/resources/$(dirname "${class//.//}")/${class##*.}Inputs/$method"
  mkdir -p "$inputs"
  # Jazzer names what it finds crash-*, timeout-*, oom-*, leak-*, slow-unit-*.
  findings_in() { ls "$inputs" | grep -E '^(crash|timeout|oom|leak|slow-unit)-' | sort || true; }
  before=$(findings_in)
  start=$(date +%s)
  status=0
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${seconds}s" JAZZER_INSTRUMENT="$instrument" ./mvnw -q -pl "$module" test \
      -Djazzer.hooks=true -Dtest="${class##*.}#$method" -Dsurefire.failIfNoSpecifiedTests=false \
      > "$log" 2>&1 || status=$?
  report="$module/target/surefire-reports/$class-output.txt"
  [ -f "$report" ] && cat "$report" >> "$log"
  took=$(( $(date +%s) - start ))
  done_line=$(grep -a -E '^Done [0-9]+ runs' "$log" | tail -1 || true)
  stats=$(grep -a -E '^#[0-9]+' "$log" | tail -1 | sed -E 's/.*(cov: [0-9]+).*(corp: [0-9]+\/[0-9a-zA-Z]+).*(exec\/s: [0-9]+).*/\1 \2 \3/' || true)
  new=$(comm -13 <(echo "$before") <(findings_in) | paste -sd' ' - || true)
  if [ "$status" -ne 0 ] || [ -n "$new" ]; then
    findings=$((findings + 1))
    verdict="FINDING${new:+ (new input: $inputs/$new)}; see $log"
  else
    verdict="no finding"
  fi
  line="$name: ${done_line:-no fuzzing summary (see $log)}; ${stats:+$stats; }${took}s wall; $verdict"
  echo "$line" | tee -a "$results/summary.txt"
done
echo "results in $results"
[ "$findings" -eq 0 ]
