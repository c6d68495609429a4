package dev.portalgateway.host.proxy;

import dev.portalgateway.api.CidrBlock;
import java.net.InetAddress;
import java.util.List;

/**
 * Finds the real client behind trusted proxies: walking {@code X-Forwarded-For} from the right,
 * the first address that is not a trusted proxy is the client. With no trusted proxies the
 * socket's peer is the client and the header is never believed, since any client can write it.
 */
public final class ClientAddresses {
  private final List<CidrBlock> trusted;

  public ClientAddresses(List<String> trustedProxies) {
    this.trusted = trustedProxies.stream().map(CidrBlock::parse).toList();
  }

  /**
   * @param peer the socket's remote address
   * @param forwardedFor the {@code X-Forwarded-For} values, possibly none
   * @return the client's address
   */
  public InetAddress client(InetAddress peer, List<String> forwardedFor) {
    if (trusted.isEmpty() || !isTrusted(peer) || forwardedFor.isEmpty()) {
      return peer;
    }
    InetAddress client = peer;
    for (int h = forwardedFor.size() - 1; h >= 0; h--) {
      String[] hops = forwardedFor.get(h).split(",");
      for (int i = hops.length - 1; i >= 0; i--) {
        InetAddress hop = CidrBlock.literal(hops[i].trim());
        if (hop == null) {
          return client;
        }
        client = hop;
        if (!isTrusted(hop)) {
          return hop;
        }
      }
    }
    return client;
  }

  /** @return whether {@code a} is one of the trusted proxies */
  public boolean isTrustedProxy(InetAddress a) {
    return !trusted.isEmpty() && isTrusted(a);
  }

  private boolean isTrusted(InetAddress a) {
    return CidrBlock.anyContains(trusted, a);
  }
}
