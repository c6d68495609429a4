package dev.portalgateway.portal.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.crypto.SecureChannel;
import dev.portalgateway.portal.relay.DevRelay;
import dev.portalgateway.portal.tunnel.DevTunnel;
import dev.portalgateway.portal.wire.Lease;
import dev.portalgateway.portal.wire.RelayInfo;
import dev.portalgateway.portal.wire.ResponseCode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** RelayClient end to end: real WebSocket on 127.0.0.1, DevRelay, DevTunnel and an HTTP backend. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RelayClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private HttpBackend backend;
  private DevRelay relay;
  private PortalIdentity tunnelIdentity;
  private DevTunnel tunnel;
  private RelayClient client;
  private final PortalIdentity clientIdentity = PortalIdentity.generate();

  @BeforeEach
  void setUp() throws IOException {
    backend = new HttpBackend();
    relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
    tunnelIdentity = PortalIdentity.generate();
    tunnel = DevTunnel.start(relay.url(), tunnelIdentity, "demo", backend.address());
    client = RelayClient.connect(relay.url(), TIMEOUT);
  }

  @AfterEach
  void tearDown() throws IOException {
    client.close();
    tunnel.close();
    relay.close();
    backend.close();
  }

  @Test
  void relayInfoListsTheTunnelsLeaseByName() throws IOException {
    RelayInfo info = client.relayInfo(TIMEOUT);

    assertThat(info.identity()).isEqualTo(relay.identity());
    assertThat(info.leases()).singleElement().satisfies(lease -> {
      assertThat(lease.name()).isEqualTo("demo");
      assertThat(lease.identity().id()).isEqualTo(tunnel.leaseId()).isEqualTo(tunnelIdentity.id());
      assertThat(lease.alpn()).containsExactly("http/1.1", "h2");
    });
    assertThat(client.isOpen()).isTrue();
    assertThat(client.url()).isEqualTo(relay.url().toString());
  }

  @Test
  void openCarriesAnHttpExchangeToTheBackend() throws IOException {
    assertThat(get("/first")).startsWith("HTTP/1.1 200 OK").endsWith(HttpBackend.bodyFor("/first"));
  }

  @Test
  void openReportsThePeerAndAlpn() throws IOException {
    try (SecureChannel channel = client.open(tunnel.leaseId(), clientIdentity, "http/1.1", TIMEOUT)) {
      assertThat(channel.peerIdentity().id()).isEqualTo(tunnel.leaseId());
      assertThat(channel.alpn()).isEqualTo("http/1.1");
    }
  }

  @Test
  void largeResponsesFlowThroughTheWindows() throws IOException {
    // Several times the 256 KiB yamux window on both hops.
    String path = "/big/" + (3 << 20);

    assertThat(get(path)).endsWith(HttpBackend.bodyFor(path));
  }

  @Test
  void twoConnectionsOneAfterTheOther() throws IOException {
    assertThat(get("/one")).endsWith(HttpBackend.bodyFor("/one"));
    assertThat(get("/two")).endsWith(HttpBackend.bodyFor("/two"));
  }

  @Test
  void connectionsInParallel() throws Exception {
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    try {
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String path = "/parallel/" + i;
        answers.add(pool.submit(() -> get(path)));
      }
      for (int i = 0; i < answers.size(); i++) {
        assertThat(answers.get(i).get(20, TimeUnit.SECONDS)).endsWith(HttpBackend.bodyFor("/parallel/" + i));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void unknownLeaseIsRefusedWithInvalidIdentity() {
    String unknown = PortalIdentity.generate().id();

    assertThatThrownBy(() -> client.open(unknown, clientIdentity, "http/1.1", TIMEOUT))
        .isInstanceOfSatisfying(ConnectionRefusedException.class,
            e -> assertThat(e.code()).isEqualTo(ResponseCode.INVALID_IDENTITY));
    // The session survives a refusal.
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void closedTunnelsLeaseDisappears() throws Exception {
    tunnel.close();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<Lease> leases;
    do {
      leases = client.relayInfo(TIMEOUT).leases();
      if (leases.isEmpty()) {
        break;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    assertThat(leases).isEmpty();
    assertThatThrownBy(() -> client.open(tunnelIdentity.id(), clientIdentity, "http/1.1", TIMEOUT))
        .isInstanceOfSatisfying(ConnectionRefusedException.class,
            e -> assertThat(e.code()).isEqualTo(ResponseCode.INVALID_IDENTITY));
  }

  @Test
  void closedRelayEndsTheClient() throws Exception {
    relay.close();

    // A bounded wait for the condition, not a timing claim: a loaded machine may take a while.
    client.closed().get(25, TimeUnit.SECONDS);
    assertThat(client.isOpen()).isFalse();
    assertThatThrownBy(() -> client.open(tunnel.leaseId(), clientIdentity, "http/1.1", TIMEOUT))
        .isInstanceOf(IOException.class);
  }

  @Test
  void unreachableRelayNamesTheUrl() {
    URI nowhere = URI.create("ws://127.0.0.1:1/relay");

    assertThatThrownBy(() -> RelayClient.connect(nowhere, Duration.ofSeconds(2)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(nowhere.toString());
  }

  /** One HTTP/1.1 GET through the relay; the whole response, read to EOF. */
  private String get(String path) throws IOException {
    try (SecureChannel channel = client.open(tunnel.leaseId(), clientIdentity, "http/1.1", TIMEOUT)) {
      OutputStream out = channel.output();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(channel.input().readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
