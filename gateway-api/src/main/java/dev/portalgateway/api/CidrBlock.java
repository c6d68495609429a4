package dev.portalgateway.api;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 address block, such as {@code 10.0.0.0/8} or {@code ::1/128}. */
public final class CidrBlock {
  private final byte[] network;
  private final int prefix;

  private CidrBlock(byte[] network, int prefix) {
    this.network = network;
    this.prefix = prefix;
  }

  /**
   * @param text an address with an optional {@code /prefix}; a bare address is a block of one
   * @return the block
   * @throws IllegalArgumentException when the text is not a literal address block
   */
  public static CidrBlock parse(String text) {
    String s = text.trim();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    InetAddress parsed = literal(addr);
    if (parsed == null) {
      throw new IllegalArgumentException("'" + text + "' is not an IP address block such as 10.0.0.0/8 or ::1/128");
    }
    byte[] bytes = parsed.getAddress();
    int max = bytes.length * 8;
    int prefix;
    try {
      prefix = slash < 0 ? max : Integer.parseInt(s.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has no valid prefix length after '/'");
    }
    if (prefix < 0 || prefix > max) {
      throw new IllegalArgumentException("'" + text + "': the prefix length must be 0 to " + max);
    }
    return new CidrBlock(bytes, prefix);
  }

  /**
   * Parses an IP address literal without ever asking DNS.
   *
   * @param text an IPv4 or IPv6 literal, IPv6 optionally in brackets
   * @return the address, or {@code null} when the text is not a literal
   */
  public static InetAddress literal(String text) {
    String s = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    if (s.isEmpty()) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
      if (!ok) {
        return null; // a host name: resolving it here would be a DNS lookup per request
      }
    }
    if (s.indexOf(':') < 0) {
      return dottedQuad(s);
    }
    try {
      // The JDK parses any text with a ':' as an IPv6 literal and never asks DNS for it.
      return InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /**
   * Exactly four decimal parts of 0 to 255. The JDK would also take inet_aton shorthands
   * ({@code 10.1} as 10.0.0.1) and send anything else to DNS; neither belongs in a CIDR list.
   */
  private static InetAddress dottedQuad(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return null;
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        return null;
      }
      bytes[i] = (byte) v;
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return null; // cannot happen for four bytes
    }
  }

  /**
   * @param blocks address blocks, such as an allow list
   * @param address a client address
   * @return whether {@code address} lies in any of {@code blocks}; {@code false} when there are none
   */
  public static boolean anyContains(java.util.List<CidrBlock> blocks, InetAddress address) {
    for (CidrBlock b : blocks) {
      if (b.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** @return whether {@code address} lies in this block (IPv4-mapped IPv6 addresses match IPv4 blocks) */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
      a = java.util.Arrays.copyOfRange(a, 12, 16);
    }
    if (a.length != network.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (a[full] & mask) == (network[full] & mask);
  }

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) return false;
    }
    return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
  }
}
