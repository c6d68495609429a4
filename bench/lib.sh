# Shared by the bench/run-*.sh scripts: sourced after they define fail().

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
