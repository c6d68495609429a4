#!/bin/sh
# The gateway's command line inside the image, for `docker exec`:
#   docker exec GATEWAY portal-gateway add-key --name NAME --generate --leases backend --config /etc/portal-gateway/gateway.yaml
exec java -jar /opt/portal-gateway/portal-gateway.jar "$@"
