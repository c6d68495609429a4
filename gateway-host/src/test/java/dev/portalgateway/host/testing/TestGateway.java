package dev.portalgateway.host.testing;

import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.server.Gateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A gateway started in-process on loopback ports chosen by the OS, from YAML text. */
public final class TestGateway implements AutoCloseable {
  private final Gateway gateway;
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private TestGateway(Gateway gateway) {
    this.gateway = gateway;
  }

  /**
   * @param provider the HTTP server provider
   * @param yamlBody configuration after the server section's listen keys (which this sets)
   */
  public static TestGateway start(String provider, String yamlBody) throws Exception {
    return start(provider, yamlBody, null);
  }

  /** Starts from a file written into {@code dir} (for reload tests), or from text when {@code dir} is null. */
  public static TestGateway start(String provider, String yamlBody, Path dir) throws Exception {
    String yaml = "server:\n  listen: \"127.0.0.1:0\"\n  admin_listen: \"127.0.0.1:0\"\n  http_provider: " + provider
        + "\n  access_log: false\n" + yamlBody + relayOff(yamlBody);
    ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get, Path.of("target/no-plugins"));
    if (dir == null) {
      return new TestGateway(Gateway.start(loader.fromText(yaml, null), loader, false));
    }
    Path file = dir.resolve("gateway.yaml");
    Files.writeString(file, yaml);
    return new TestGateway(Gateway.start(loader.load(file), loader, false));
  }

  /** Tests of plain upstreams run without a relay, unless they configure one. */
  private static String relayOff(String yamlBody) {
    return yamlBody.contains("\nrelay:") || yamlBody.startsWith("relay:") ? "" : "relay:\n  enabled: false\n";
  }

  /** @return the server-section prefix {@link #start} writes, for tests that rewrite the file */
  public static String serverSection(String provider, String extra) {
    return "server:\n  listen: \"127.0.0.1:0\"\n  admin_listen: \"127.0.0.1:0\"\n  http_provider: " + provider
        + "\n  access_log: false\n" + extra;
  }

  public Gateway gateway() {
    return gateway;
  }

  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + gateway.address().getPort() + pathAndQuery);
  }

  public URI adminUri(String path) {
    return URI.create("http://127.0.0.1:" + gateway.adminAddress().getPort() + path);
  }

  public int port() {
    return gateway.address().getPort();
  }

  public HttpClient client() {
    return client;
  }

  public HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public String metrics() throws Exception {
    return client.send(HttpRequest.newBuilder(adminUri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /**
   * Scrapes until every line is in the metrics, and returns that scrape. The gateway counts a
   * request once its last byte is sent, so a client that has just read the answer can scrape
   * before it is counted; a single scrape would race.
   */
  public String awaitMetrics(String... lines) throws Exception {
    return awaitMetrics(m -> java.util.Arrays.stream(lines).allMatch(m::contains), String.join(", ", lines));
  }

  /** Scrapes until {@code condition} holds (at most 20 s), and returns that scrape; fails naming {@code what}. */
  public String awaitMetrics(Predicate<String> condition, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String metrics;
    while (!condition.test(metrics = metrics())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 20 s for " + what + " in the metrics:\n" + metrics);
      }
      Thread.sleep(20);
    }
    return metrics;
  }

  @Override
  public void close() {
    gateway.close();
    client.shutdownNow();
  }
}
