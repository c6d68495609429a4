#!/usr/bin/env bash
# TLS handshakes per second at the gateway's HTTPS listener, with session resumption (one client
# context, which offers the TLS 1.3 ticket it got before) and without (a new context, a full
# handshake, each time), for each server.http_provider given. A self-signed RSA certificate is
# made with keytool for the run. Loopback only.
#
# Usage: bench/run-tls.sh [--dist DIR] [--bench-jar FILE] [--providers "portal jdk"] [--seconds 10] [--out DIR]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fail() { echo "run-tls: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
DIST=$REPO/dist
BENCH_JAR=$REPO/bench/target/benchmarks.jar
PROVIDERS="portal jdk"
SECONDS_EACH=10
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --bench-jar) BENCH_JAR=$2; shift 2 ;;
    --providers) PROVIDERS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-tls: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$REPO/bench/results/tls-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT/empty-plugins"
pick_jdk
trap cleanup EXIT
"$JDK_HOME/bin/keytool" -genkeypair -alias gateway -keyalg RSA -keysize 2048 -validity 2 -dname CN=localhost \
  -storetype PKCS12 -keystore "$OUT/gateway.p12" -storepass benchpass -keypass benchpass > /dev/null 2>&1

printf '| provider | mode | handshakes/s |\n|---|---|---:|\n' > "$OUT/summary.md"
for provider in $PROVIDERS; do
  free_port; port=$REPLY
  free_port; admin=$REPLY
  cat > "$OUT/gateway-$provider.yaml" <<YAML
server:
  listen: "127.0.0.1:$port"
  admin_listen: "127.0.0.1:$admin"
  http_provider: "$provider"
  access_log: false
  plugins_dir: "$OUT/empty-plugins"
  data_dir: "$OUT/data-$provider"
  tls:
    keystore: "$OUT/gateway.p12"
    keystore_password: "benchpass"
relay:
  enabled: false
YAML
  "$JAVA" -jar "$DIST/portal-gateway.jar" --config "$OUT/gateway-$provider.yaml" > "$OUT/gateway-$provider.log" 2>&1 &
  gw=$!
  STARTED_PIDS+=("$gw")
  wait_for_match "$OUT/gateway-$provider.log" "Portal Gateway is serving" 60 "$gw" || fail "the $provider gateway did not start"
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.TlsHandshakes 127.0.0.1 "$port" 3 resume > /dev/null # warm-up
  for mode in fresh resume; do
    line=$("$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.TlsHandshakes 127.0.0.1 "$port" "$SECONDS_EACH" "$mode")
    echo "$provider $line" | tee -a "$OUT/results.txt"
    printf '| %s | %s | %s |\n' "$provider" "$mode" "$(field per_second "$line")" >> "$OUT/summary.md"
  done
  kill "$gw"; wait "$gw" 2>/dev/null || true
  forget_pid "$gw"
done
cat "$OUT/summary.md"
