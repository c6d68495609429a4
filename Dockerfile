# Portal Gateway as a container image (docs/deployment.md).
#
# The build context is the repository root, after the distribution is laid out:
#   ./mvnw -q package -DskipTests
#   docker build -t portal-gateway .
#   podman build --format docker -t portal-gateway .   # podman's default OCI format drops HEALTHCHECK
#
# Both base images are build arguments, so a machine without a registry can build from local
# images (docs/deployment.md#building-without-a-registry). The first stage needs a JDK with
# jdeps and jlink at $JAVA_HOME (or /opt/java/openjdk, as in eclipse-temurin); the second a
# Debian-like system with bash, apt-get and useradd.
ARG JDK_IMAGE=eclipse-temurin:21-jdk
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${JDK_IMAGE} AS runtime
# Marks this stage's left-over images, so that `podman image prune --filter label=...` finds them.
LABEL dev.portalgateway.build-stage=jlink
# jdeps finds what the gateway and its plugins use; jdk.unsupported is used reflectively (Unsafe)
# where jdeps cannot see it, and jdk.crypto.ec gives a Java 21 runtime TLS with EC keys (it is
# empty from Java 22 on, and still accepted).
ARG EXTRA_MODULES=jdk.unsupported,jdk.crypto.ec
COPY dist/portal-gateway.jar dist/plugins/ /build/jars/
RUN set -eu; \
    jdk="${JAVA_HOME:-/opt/java/openjdk}"; \
    modules="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 21 /build/jars/*.jar),${EXTRA_MODULES}"; \
    echo "linking a runtime with: $modules"; \
    "$jdk/bin/jlink" --add-modules "$modules" --strip-java-debug-attributes --no-man-pages --no-header-files \
        --compress=zip-6 --output /opt/java-runtime; \
    /opt/java-runtime/bin/java -version

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Portal Gateway" \
      org.opencontainers.image.description="HTTP gateway for services behind a Portal relay: API keys, rate and token limits, MCP cache, webhook retries, metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="https://github.com/gosuda/portal"

# tini as PID 1 passes SIGTERM on to the JVM at any moment (a JVM that is PID 1 ignores a SIGTERM
# that comes before its handlers are installed), so `docker stop` always drains.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --home-dir /var/lib/portal-gateway --no-create-home \
        --shell /usr/sbin/nologin gateway \
 && mkdir -p /var/lib/portal-gateway/plugins/auth-apikey /etc/portal-gateway \
 && chown -R gateway:gateway /var/lib/portal-gateway && chmod -R 0750 /var/lib/portal-gateway \
 && chmod 0700 /var/lib/portal-gateway/plugins/auth-apikey

COPY --from=runtime /opt/java-runtime /opt/java-runtime
COPY dist/portal-gateway.jar /opt/portal-gateway/portal-gateway.jar
COPY dist/plugins/ /opt/portal-gateway/plugins/
COPY deploy/docker/gateway.yaml /etc/portal-gateway/gateway.yaml
COPY deploy/docker/portal-gateway.sh /usr/local/bin/portal-gateway
COPY deploy/docker/healthcheck.sh /usr/local/bin/portal-gateway-healthcheck

ENV PATH=/opt/java-runtime/bin:$PATH
USER gateway:gateway
WORKDIR /var/lib/portal-gateway
# Keys, queues and the gateway's Portal identity live in /var/lib/portal-gateway (the keys file's
# folder, plugins/auth-apikey, exists already, so a volume mounted there to share keys between
# replicas belongs to the gateway's user); the configuration in /etc/portal-gateway (mount your
# own gateway.yaml there).
VOLUME ["/var/lib/portal-gateway", "/etc/portal-gateway"]
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/portal-gateway-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/portal-gateway/portal-gateway.jar"]
CMD ["--config", "/etc/portal-gateway/gateway.yaml"]
