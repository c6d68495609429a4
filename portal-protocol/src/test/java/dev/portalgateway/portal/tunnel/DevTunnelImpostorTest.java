package dev.portalgateway.portal.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.portal.client.HttpBackend;
import dev.portalgateway.portal.client.RelayClient;
import dev.portalgateway.portal.crypto.HandshakeException;
import dev.portalgateway.portal.crypto.PortalIdentity;
import dev.portalgateway.portal.relay.DevRelay;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A holder that answers the handshake with a key other than its lease's is caught by the client. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DevTunnelImpostorTest {

  @Test
  void handshakeWithAnotherIdentityFails() throws Exception {
    PortalIdentity leaseOwner = PortalIdentity.generate();
    PortalIdentity impostor = PortalIdentity.generate();
    try (HttpBackend backend = new HttpBackend();
         DevRelay relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
         DevTunnel tunnel = DevTunnel.startImpostor(relay.url(), leaseOwner, impostor, "impostor", backend.address());
         RelayClient client = RelayClient.connect(relay.url(), Duration.ofSeconds(10))) {

      assertThatThrownBy(() -> client.open(tunnel.leaseId(), PortalIdentity.generate(), "http/1.1",
          Duration.ofSeconds(10)))
          .isInstanceOfSatisfying(HandshakeException.class,
              e -> assertThat(e.reason()).isEqualTo(HandshakeException.Reason.IDENTITY_MISMATCH));
      assertThat(client.isOpen()).isTrue();
    }
  }
}
