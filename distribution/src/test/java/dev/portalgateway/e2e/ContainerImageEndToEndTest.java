package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image (issue 21, items 1 and 2) as a user runs it: built here with podman from
 * the repository's {@code Dockerfile} and a local Debian base, started with its own
 * {@code gateway.yaml} plus two static keys, on the host's loopback ({@code --network host}) in
 * front of a backend of this test. A request goes through it with a key from the environment,
 * one from a mounted secret file, and one that {@code add-key} writes to the data volume while it
 * runs; then {@code podman stop} drains a request in flight and the gateway exits with 0.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES) // the first run on a machine debootstraps and builds
class ContainerImageEndToEndTest {
  private static final Pattern KEY = Pattern.compile("sk_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}");
  private static Podman podman;
  private static String image;

  @TempDir
  Path dir;

  private final String name = "pgw-image-e2e-" + UUID.randomUUID().toString().substring(0, 8);
  private final String volume = name + "-data";
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private HttpServer backend;

  @BeforeAll
  static void buildImage() throws Exception {
    podman = Podman.require();
    image = podman.gatewayImage();
  }

  @AfterEach
  void cleanUp() {
    podman.removeQuietly(List.of(name), List.of(volume));
    if (backend != null) {
      backend.stop(0);
    }
    client.shutdownNow();
  }

  @Test
  void theImageServesTakesKeysFromTheEnvironmentASecretAndItsVolumeAndDrainsOnStop() throws Exception {
    String labels = podman.check("image", "inspect", "--format", "{{json .Config.Labels}}", image);
    assertThat(labels).contains("\"org.opencontainers.image.title\":\"Portal Gateway\"");

    // Keys as a deployment hands them over: new-key in the image itself, then a variable and a file.
    Podman.Result generated = podman.podman("run", "--rm", image, "new-key");
    assertThat(generated.exitCode()).as(generated.all()).isZero();
    String envKey = generated.stdout().strip();
    assertThat(envKey).matches(KEY);
    assertThat(generated.stderr()).contains("is stored nowhere");
    String fileKey = podman.podman("run", "--rm", image, "new-key").stdout().strip();
    assertThat(fileKey).matches(KEY).isNotEqualTo(envKey);
    Path secret = dir.resolve("ci_key");
    Files.writeString(secret, fileKey + "\n");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--")); // the image's user is 10001

    // The image's own configuration, with two static keys added to its auth-apikey section.
    String shipped = Files.readString(Podman.ROOT.resolve("deploy/docker/gateway.yaml"));
    assertThat(shipped.stripTrailing()).as("the shipped file ends with the auth-apikey settings")
        .endsWith("keys_file: \"keys.yaml\"                  # /var/lib/portal-gateway/plugins/auth-apikey/keys.yaml");
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(config, shipped + """
            static_keys:
              n8n: { env: N8N_WEBHOOK_KEY, leases: [backend] }
              ci: { file: /run/secrets/ci_key, leases: [backend] }
        """);
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));

    CountDownLatch slowArrived = new CountDownLatch(1);
    CountDownLatch releaseSlow = new CountDownLatch(1);
    startBackend(slowArrived, releaseSlow);
    int port = freePort();
    int admin = freePort();
    podman.check("volume", "create", volume);
    Process run = podman.start(Map.of("N8N_WEBHOOK_KEY", envKey), "run", "-d", "--name", name, "--network", "host",
        "--stop-timeout", "40",
        "-v", volume + ":/var/lib/portal-gateway",
        "-v", config + ":/etc/portal-gateway/gateway.yaml:ro",
        "-v", secret + ":/run/secrets/ci_key:ro",
        "-e", "N8N_WEBHOOK_KEY", // its value from podman's own environment, not the command line
        "-e", "GATEWAY_LISTEN=127.0.0.1:" + port, "-e", "ADMIN_LISTEN=127.0.0.1:" + admin,
        "-e", "RELAY_ENABLED=false", "-e", "BACKEND_URL=http://127.0.0.1:" + backend.getAddress().getPort(),
        "-e", "SHUTDOWN_GRACE=30s", image);
    assertThat(run.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(run.exitValue()).as("podman run -d").isZero();
    awaitReady(admin);

    assertThat(podman.check("exec", name, "id", "-u").strip()).as("the gateway's user").isEqualTo("10001");
    Podman.Result health = podman.podman("healthcheck", "run", name);
    assertThat(health.exitCode()).as("the image's HEALTHCHECK: %s", health.all()).isZero();

    HttpResponse<String> r = get(port, "/peer/backend/hello");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("missing-api-key");
    r = get(port, "/peer/backend/hello", "Authorization", "Bearer " + envKey);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("backend saw /hello without a key");
    r = get(port, "/peer/backend/hello", "X-API-Key", fileKey);
    assertThat(r.statusCode()).isEqualTo(200);
    r = get(port, "/peer/backend/hello", "Authorization", "Bearer " + fileKey.substring(0, 25) + envKey.substring(25));
    assertThat(r.statusCode()).isEqualTo(401);

    // add-key in the running container writes the keys file to the data volume; the gateway reloads it.
    String added = podman.check("exec", name, "portal-gateway", "add-key", "--name", "ops", "--leases", "backend",
        "--generate", "--config", "/etc/portal-gateway/gateway.yaml");
    Matcher m = KEY.matcher(added);
    assertThat(m.find()).as(added).isTrue();
    String volumeKey = m.group();
    awaitStatus(port, 200, "Authorization", "Bearer " + volumeKey);
    assertThat(podman.check("exec", name, "stat", "-c", "%U %a",
        "/var/lib/portal-gateway/plugins/auth-apikey/keys.yaml").strip()).isEqualTo("gateway 600");

    // podman stop while a request is in flight: it finishes, new ones get 503, the exit status is 0.
    CompletableFuture<HttpResponse<String>> slow = client.sendAsync(request(port, "/peer/backend/slow",
        "Authorization", "Bearer " + envKey), HttpResponse.BodyHandlers.ofString());
    assertThat(slowArrived.await(60, TimeUnit.SECONDS)).as("the slow request reached the backend").isTrue();
    Process stop = podman.start(Map.of(), "stop", "-t", "40", name);
    awaitDraining(admin);
    r = get(port, "/peer/backend/hello", "Authorization", "Bearer " + envKey);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("draining");
    releaseSlow.countDown();
    HttpResponse<String> finished = slow.get(60, TimeUnit.SECONDS);
    assertThat(finished.statusCode()).isEqualTo(200);
    assertThat(finished.body()).isEqualTo("slow answer, finished");
    assertThat(stop.waitFor(60, TimeUnit.SECONDS)).as("podman stop returned").isTrue();
    assertThat(podman.check("inspect", name, "--format", "{{.State.ExitCode}}").strip()).isEqualTo("0");
    String logs = podman.podman("logs", name).all();
    assertThat(logs).contains("draining in-flight requests").contains("\"stopped\"")
        .doesNotContain(envKey).doesNotContain(fileKey.substring(21)).doesNotContain(volumeKey.substring(21));

    // The volume outlives the container: a new one finds the key that add-key wrote...
    Podman.Result listed = podman.podman("run", "--rm", "-v", volume + ":/var/lib/portal-gateway", image,
        "list-keys", "--config", "/etc/portal-gateway/gateway.yaml");
    assertThat(listed.exitCode()).as(listed.all()).isZero();
    assertThat(listed.stdout()).contains(volumeKey.substring(8, 20)).contains("ops");
    // ... and a gateway whose static key's variable is missing does not start, without showing a key.
    Podman.Result missing = podman.podman("run", "--rm", "--network", "host", "-v", volume + ":/var/lib/portal-gateway",
        "-v", config + ":/etc/portal-gateway/gateway.yaml:ro", "-v", secret + ":/run/secrets/ci_key:ro",
        "-e", "GATEWAY_LISTEN=127.0.0.1:" + port, "-e", "ADMIN_LISTEN=127.0.0.1:" + admin, "-e", "RELAY_ENABLED=false",
        image);
    assertThat(missing.exitCode()).as(missing.all()).isEqualTo(2);
    assertThat(missing.all()).contains("plugins.auth-apikey.static_keys.n8n.env")
        .contains("N8N_WEBHOOK_KEY is not set").doesNotContain(fileKey.substring(21));
  }

  private void startBackend(CountDownLatch slowArrived, CountDownLatch releaseSlow) throws IOException {
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    backend.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    backend.createContext("/slow", ex -> {
      slowArrived.countDown();
      try {
        releaseSlow.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      respond(ex, "slow answer, finished");
    });
    backend.createContext("/", ex -> {
      boolean key = ex.getRequestHeaders().containsKey("Authorization") || ex.getRequestHeaders().containsKey("X-API-Key");
      respond(ex, "backend saw " + ex.getRequestURI().getPath() + (key ? " with a key" : " without a key"));
    });
    backend.start();
  }

  private static void respond(HttpExchange ex, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(200, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private HttpRequest request(int port, String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(90));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return b.build();
  }

  private HttpResponse<String> get(int port, String path, String... headers) throws Exception {
    return client.send(request(port, path, headers), HttpResponse.BodyHandlers.ofString());
  }

  private void awaitReady(int admin) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      try {
        if (get(admin, "/readyz").statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      String state = podman.check("inspect", name, "--format", "{{.State.Status}}").strip();
      if (!state.equals("running") || System.nanoTime() > deadline) {
        throw new AssertionError("the gateway container is " + state + " and not ready:\n" + podman.podman("logs", name).all());
      }
      Thread.sleep(200);
    }
  }

  private void awaitDraining(int admin) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      HttpResponse<String> r = get(admin, "/readyz");
      if (r.statusCode() == 503 && r.body().contains("draining")) {
        return;
      }
      assertThat(System.nanoTime()).as("the gateway began draining after podman stop").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private void awaitStatus(int port, int status, String... headers) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      int got = get(port, "/peer/backend/hello", headers).statusCode();
      if (got == status) {
        return;
      }
      assertThat(System.nanoTime()).as("waiting for %d, still %d", status, got).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
