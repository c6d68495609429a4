#!/bin/bash
# The image's HEALTHCHECK: GET /readyz on the admin listener with bash's /dev/tcp (the image has
# no curl). Healthy means ready: serving, not draining, and connected to a relay when the relay
# connector is on (docs/operations.md#health-and-readiness). The address is HEALTHCHECK_ADDR,
# else ADMIN_LISTEN (a wildcard host becomes 127.0.0.1), else 127.0.0.1:9090.
addr=${HEALTHCHECK_ADDR:-${ADMIN_LISTEN:-127.0.0.1:9090}}
host=${addr%:*}
port=${addr##*:}
case "$host" in
  ""|"*"|0.0.0.0) host=127.0.0.1 ;;
  "[::]") host=::1 ;;
  \[*\]) host=${host#[}; host=${host%]} ;;
esac
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ $status == "HTTP/1.1 200"* ]]
