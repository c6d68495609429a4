# Shared by bench/run and the bench/run-*.sh scripts: sourced after they define fail().

# java_major JAVA: the feature release of that java binary (17, 21, 25, ...).
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' \
    | sed 's/^1\.//; s/\..*//'
}

# pick_jdk: sets JDK_HOME and JAVA. The machine's default java may be older than the gateway's
# minimum, so $JAVA_HOME is used only when it is 21 or newer, else the Temurin 25 install.
pick_jdk() {
  JDK_HOME=""
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && (( $(java_major "$JAVA_HOME/bin/java" || echo 0) >= 21 )); then
    JDK_HOME=$JAVA_HOME
  elif [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
    JDK_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  else
    fail "no JDK 21 or newer: set JAVA_HOME to one"
  fi
  JAVA=$JDK_HOME/bin/java
}

# Every process a script starts and has not yet waited for, so that the exit trap ends exactly
# those: an id that was waited for may already belong to someone else's process.
STARTED_PIDS=()
forget_pid() {
  local kept=() pid
  for pid in "${STARTED_PIDS[@]}"; do
    [[ "$pid" == "$1" ]] || kept+=("$pid")
  done
  STARTED_PIDS=(${kept[@]+"${kept[@]}"})
}
cleanup() {
  local pid
  for pid in ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# free_port: a port nobody listens on, from 20000-31999: below Linux's ephemeral range (32768+),
# so the load generator's own outgoing connections cannot be holding it. Never the same twice in
# one script. Sets REPLY.
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    if [[ "$USED_PORTS" != *" $p "* ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      REPLY=$p
      return 0
    fi
  done
  fail "found no free port"
}

# cpu_ticks PID...: the user plus system CPU time of the processes so far, all their threads, in
# clock ticks (fields 14 and 15 of /proc/PID/stat; the command names here have no spaces). A
# process that is gone counts 0.
cpu_ticks() {
  local pid sum=0 v
  for pid in "$@"; do
    v=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    sum=$(( sum + ${v:-0} ))
  done
  echo "$sum"
}
TICKS_PER_SECOND=$(getconf CLK_TCK)
# busy_ticks: CPU time spent by the whole machine so far, all cores, interrupts included.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# seconds TICKS_BEFORE TICKS_AFTER: the difference in seconds, two decimals.
seconds() { awk -v a="$1" -v b="$2" -v t="$TICKS_PER_SECOND" 'BEGIN {printf "%.2f", (b - a) / t}'; }

# field NAME LINE: the value of NAME=... in a load generator's RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# wait_for_line FILE TEXT SECONDS PID: until FILE has a line that is exactly TEXT, PID exits
# (returns 1), or time is up (returns 1).
wait_for_line() { wait_for_grep -qx "$@"; }

# wait_for_match FILE REGEX SECONDS PID: the same for a line matching REGEX anywhere.
wait_for_match() { wait_for_grep -q "$@"; }

# wait_for_grep GREP_FLAGS FILE PATTERN SECONDS PID: the loop behind the two above.
wait_for_grep() {
  local flags=$1 deadline=$(( SECONDS + $4 ))
  while (( SECONDS < deadline )); do
    grep "$flags" "$3" "$2" 2>/dev/null && return 0
    kill -0 "$5" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# start_bench_backend LIFETIME: BenchBackend (from $BENCH_JAR) on a free loopback port, its log in
# $OUT/backend.log, until it says it listens. Sets BACKEND_PORT and BACKEND_PID.
start_bench_backend() {
  free_port; BACKEND_PORT=$REPLY
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.BenchBackend --port "$BACKEND_PORT" --max-lifetime "$1" \
    > "$OUT/backend.log" 2>&1 &
  BACKEND_PID=$!
  STARTED_PIDS+=("$BACKEND_PID")
  wait_for_match "$OUT/backend.log" "BenchBackend listening" 20 "$BACKEND_PID" \
    || fail "backend did not start: $(tail -5 "$OUT/backend.log")"
}

# start_bench_issuer TOKENS: BenchIssuer (from $BENCH_JAR), a loopback OIDC issuer with a JWKS,
# writing TOKENS distinct RS256 tokens for the audience bench-gateway to $OUT/tokens.txt (one
# "Authorization: Bearer ..." line each, for LoadGenerator --header-file), its log in
# $OUT/issuer.log, until it says where it is. Sets ISSUER (its URL) and ISSUER_PID.
start_bench_issuer() {
  "$JAVA" -cp "$BENCH_JAR" dev.portalgateway.bench.BenchIssuer "$OUT/tokens.txt" "$1" bench-gateway \
    > "$OUT/issuer.log" 2>&1 &
  ISSUER_PID=$!
  STARTED_PIDS+=("$ISSUER_PID")
  wait_for_match "$OUT/issuer.log" '^ISSUER ' 120 "$ISSUER_PID" || fail "BenchIssuer did not start: $(tail -5 "$OUT/issuer.log")"
  ISSUER=$(sed -n 's/^ISSUER //p' "$OUT/issuer.log")
}

# start_relay_and_tunnel LEASE TARGET_PORT: a development relay (portal-gateway.jar relay, from
# $GATEWAY_JAR) on a free loopback port and a tunnel registering LEASE for 127.0.0.1:TARGET_PORT,
# logs in $OUT/relay.log and $OUT/tunnel.log, until the lease is registered. Sets RELAY_PORT,
# RELAY_URL, RELAY_PID and TUNNEL_PID.
start_relay_and_tunnel() {
  free_port; RELAY_PORT=$REPLY
  RELAY_URL="ws://127.0.0.1:$RELAY_PORT/relay"
  "$JAVA" -jar "$GATEWAY_JAR" relay --listen "127.0.0.1:$RELAY_PORT" > "$OUT/relay.log" 2>&1 &
  RELAY_PID=$!
  STARTED_PIDS+=("$RELAY_PID")
  wait_for_match "$OUT/relay.log" "Portal development relay at" 20 "$RELAY_PID" \
    || fail "relay did not start: $(tail -5 "$OUT/relay.log")"
  "$JAVA" -jar "$GATEWAY_JAR" tunnel --relay "$RELAY_URL" --name "$1" --target "127.0.0.1:$2" \
    --identity "$OUT/tunnel-identity.key" > "$OUT/tunnel.log" 2>&1 &
  TUNNEL_PID=$!
  STARTED_PIDS+=("$TUNNEL_PID")
  wait_for_match "$OUT/tunnel.log" "^Lease '$1'" 20 "$TUNNEL_PID" \
    || fail "tunnel did not start: $(tail -5 "$OUT/tunnel.log")"
}
