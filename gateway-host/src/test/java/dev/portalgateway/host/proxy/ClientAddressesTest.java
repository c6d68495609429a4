package dev.portalgateway.host.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.CidrBlock;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
  private static final InetAddress PROXY = ip("10.0.0.1");
  private static final InetAddress STRANGER = ip("198.51.100.9");

  private final ClientAddresses behindProxies = new ClientAddresses(List.of("10.0.0.0/8", "::1"));

  private static InetAddress ip(String s) {
    InetAddress a = CidrBlock.literal(s);
    if (a == null) {
      throw new IllegalArgumentException(s);
    }
    return a;
  }

  @Test
  void withoutTrustedProxiesThePeerIsTheClientWhateverTheHeaderSays() {
    ClientAddresses none = new ClientAddresses(List.of());

    assertThat(none.client(PROXY, List.of("203.0.113.5"))).isEqualTo(PROXY);
    assertThat(none.client(STRANGER, List.of("203.0.113.5, 10.0.0.2"))).isEqualTo(STRANGER);
    assertThat(none.client(STRANGER, List.of())).isEqualTo(STRANGER);
    assertThat(none.isTrustedProxy(PROXY)).isFalse();
  }

  @Test
  void aTrustedPeerNamesTheClientInForwardedFor() {
    assertThat(behindProxies.client(PROXY, List.of("203.0.113.5"))).isEqualTo(ip("203.0.113.5"));
  }

  @Test
  void theRightmostUntrustedHopIsTheClient() {
    // The leftmost entry is whatever the client wrote; only what trusted proxies appended counts.
    assertThat(behindProxies.client(PROXY, List.of("1.1.1.1, 203.0.113.5, 10.0.0.7")))
        .isEqualTo(ip("203.0.113.5"));
  }

  @Test
  void aChainOfTrustedHopsIsWalkedThrough() {
    assertThat(behindProxies.client(PROXY, List.of("203.0.113.5,10.0.0.9,10.1.1.1, 10.2.2.2")))
        .isEqualTo(ip("203.0.113.5"));
  }

  @Test
  void severalForwardedForFieldsAreReadAsOneListInOrder() {
    assertThat(behindProxies.client(PROXY, List.of("1.1.1.1, 203.0.113.5", "10.0.0.9")))
        .isEqualTo(ip("203.0.113.5"));
    assertThat(behindProxies.client(PROXY, List.of("203.0.113.5", "198.51.100.1, 10.0.0.9")))
        .isEqualTo(ip("198.51.100.1"));
  }

  @Test
  void whenEveryHopIsTrustedTheLeftmostIsTheClient() {
    assertThat(behindProxies.client(PROXY, List.of("10.0.0.5, 10.0.0.6"))).isEqualTo(ip("10.0.0.5"));
  }

  @Test
  void aGarbageHopStopsTheWalk() {
    assertThat(behindProxies.client(PROXY, List.of("203.0.113.5, unknown"))).isEqualTo(PROXY);
    assertThat(behindProxies.client(PROXY, List.of("203.0.113.5, evil.example, 10.0.0.9")))
        .isEqualTo(ip("10.0.0.9"));
    assertThat(behindProxies.client(PROXY, List.of("203.0.113.5, "))).isEqualTo(PROXY);
    assertThat(behindProxies.client(PROXY, List.of(""))).isEqualTo(PROXY);
  }

  @Test
  void anUntrustedPeerIsTheClientWhateverTheHeaderSays() {
    assertThat(behindProxies.client(STRANGER, List.of("203.0.113.5"))).isEqualTo(STRANGER);
    assertThat(behindProxies.client(STRANGER, List.of("10.0.0.9"))).isEqualTo(STRANGER);
  }

  @Test
  void aTrustedPeerWithoutForwardedForIsTheClient() {
    assertThat(behindProxies.client(PROXY, List.of())).isEqualTo(PROXY);
  }

  @Test
  void ipv6HopsAndPeersWork() {
    InetAddress loopback6 = ip("::1");
    assertThat(behindProxies.client(loopback6, List.of("2001:db8::5"))).isEqualTo(ip("2001:db8::5"));
    assertThat(behindProxies.client(loopback6, List.of("[2001:db8::5]"))).isEqualTo(ip("2001:db8::5"));
  }

  @Test
  void isTrustedProxyFollowsTheConfiguredBlocks() {
    assertThat(behindProxies.isTrustedProxy(PROXY)).isTrue();
    assertThat(behindProxies.isTrustedProxy(ip("::1"))).isTrue();
    assertThat(behindProxies.isTrustedProxy(STRANGER)).isFalse();
  }

  @Test
  void aBadTrustedProxyIsRejectedWhenConfigured() {
    assertThatThrownBy(() -> new ClientAddresses(List.of("10.0.0.0/8", "proxy.internal")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("proxy.internal");
  }
}
