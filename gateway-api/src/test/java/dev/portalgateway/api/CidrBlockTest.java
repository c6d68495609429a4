package dev.portalgateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidrBlockTest {

  private static InetAddress ip(String literal) {
    InetAddress a = CidrBlock.literal(literal);
    assertThat(a).as("literal %s", literal).isNotNull();
    return a;
  }

  private static InetAddress v4Mapped(int a, int b, int c, int d) throws UnknownHostException {
    byte[] bytes = new byte[16];
    bytes[10] = (byte) 0xFF;
    bytes[11] = (byte) 0xFF;
    bytes[12] = (byte) a;
    bytes[13] = (byte) b;
    bytes[14] = (byte) c;
    bytes[15] = (byte) d;
    return Inet6Address.getByAddress(null, bytes, (NetworkInterface) null);
  }

  @Test
  void ipv4PrefixesMatchTheirAddresses() {
    CidrBlock ten = CidrBlock.parse("10.0.0.0/8");
    assertThat(ten.contains(ip("10.0.0.0"))).isTrue();
    assertThat(ten.contains(ip("10.255.255.255"))).isTrue();
    assertThat(ten.contains(ip("11.0.0.0"))).isFalse();
    assertThat(ten.contains(ip("9.255.255.255"))).isFalse();

    CidrBlock c24 = CidrBlock.parse("192.168.1.0/24");
    assertThat(c24.contains(ip("192.168.1.77"))).isTrue();
    assertThat(c24.contains(ip("192.168.2.1"))).isFalse();
  }

  @Test
  void anyContainsLooksThroughAList() {
    List<CidrBlock> blocks = List.of(CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse("2001:db8::/32"));
    assertThat(CidrBlock.anyContains(blocks, ip("10.9.8.7"))).isTrue();
    assertThat(CidrBlock.anyContains(blocks, ip("2001:db8::1"))).isTrue();
    assertThat(CidrBlock.anyContains(blocks, ip("192.0.2.1"))).isFalse();
    assertThat(CidrBlock.anyContains(List.of(), ip("10.9.8.7"))).isFalse();
  }

  @Test
  void prefixesThatAreNotWholeBytesMatchBitByBit() {
    CidrBlock block = CidrBlock.parse("172.16.0.0/12");
    assertThat(block.contains(ip("172.16.0.1"))).isTrue();
    assertThat(block.contains(ip("172.31.255.255"))).isTrue();
    assertThat(block.contains(ip("172.32.0.0"))).isFalse();
    assertThat(block.contains(ip("172.15.255.255"))).isFalse();

    CidrBlock slash25 = CidrBlock.parse("10.0.0.128/25");
    assertThat(slash25.contains(ip("10.0.0.200"))).isTrue();
    assertThat(slash25.contains(ip("10.0.0.127"))).isFalse();
  }

  @Test
  void theNetworkAddressNeedNotBeTheFirstOfTheBlock() {
    assertThat(CidrBlock.parse("10.1.2.3/8").contains(ip("10.200.0.1"))).isTrue();
  }

  @Test
  void slashZeroMatchesEveryAddressOfItsFamily() {
    assertThat(CidrBlock.parse("0.0.0.0/0").contains(ip("8.8.8.8"))).isTrue();
    assertThat(CidrBlock.parse("0.0.0.0/0").contains(ip("255.255.255.255"))).isTrue();
    assertThat(CidrBlock.parse("::/0").contains(ip("2001:db8::1"))).isTrue();
    assertThat(CidrBlock.parse("::/0").contains(ip("::1"))).isTrue();
  }

  @Test
  void slash32AndABareIpv4AddressMatchOneAddress() {
    for (String text : List.of("203.0.113.7/32", "203.0.113.7")) {
      CidrBlock block = CidrBlock.parse(text);
      assertThat(block.contains(ip("203.0.113.7"))).as(text).isTrue();
      assertThat(block.contains(ip("203.0.113.6"))).as(text).isFalse();
      assertThat(block.contains(ip("203.0.113.8"))).as(text).isFalse();
    }
  }

  @Test
  void ipv6Prefixes() {
    CidrBlock block = CidrBlock.parse("2001:db8::/32");
    assertThat(block.contains(ip("2001:db8::1"))).isTrue();
    assertThat(block.contains(ip("2001:db8:ffff:ffff::1"))).isTrue();
    assertThat(block.contains(ip("2001:db9::1"))).isFalse();

    CidrBlock ula = CidrBlock.parse("fc00::/7");
    assertThat(ula.contains(ip("fd12:3456::1"))).isTrue();
    assertThat(ula.contains(ip("fe80::1"))).isFalse();
  }

  @Test
  void slash128AndABareIpv6AddressMatchOneAddress() {
    for (String text : List.of("::1/128", "::1", "[::1]", "0:0:0:0:0:0:0:1")) {
      CidrBlock block = CidrBlock.parse(text);
      assertThat(block.contains(ip("::1"))).as(text).isTrue();
      assertThat(block.contains(ip("::2"))).as(text).isFalse();
    }
  }

  @Test
  void ipv4MappedIpv6AddressesMatchIpv4Blocks() throws UnknownHostException {
    InetAddress mapped = v4Mapped(10, 1, 2, 3);
    assertThat(mapped).isInstanceOf(Inet6Address.class);

    assertThat(CidrBlock.parse("10.0.0.0/8").contains(mapped)).isTrue();
    assertThat(CidrBlock.parse("10.1.2.3").contains(mapped)).isTrue();
    assertThat(CidrBlock.parse("192.168.0.0/16").contains(mapped)).isFalse();
  }

  @Test
  void mismatchedFamiliesNeverMatch() {
    assertThat(CidrBlock.parse("0.0.0.0/0").contains(ip("::1"))).isFalse();
    assertThat(CidrBlock.parse("0.0.0.0/0").contains(ip("2001:db8::1"))).isFalse();
    assertThat(CidrBlock.parse("::/0").contains(ip("127.0.0.1"))).isFalse();
    assertThat(CidrBlock.parse("::1").contains(ip("127.0.0.1"))).isFalse();
  }

  @Test
  void surroundingWhitespaceIsIgnored() {
    assertThat(CidrBlock.parse("  10.0.0.0/8 ").contains(ip("10.9.9.9"))).isTrue();
  }

  @ParameterizedTest(name = "rejects \"{0}\"")
  @ValueSource(strings = {
      "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/x", "10.0.0.0/", "10.0.0.0/8/8",
      "", "/8", "example.com", "example.com/8", "localhost", "1e100", "beef", "beef/16", "fe80::1%eth0",
      "10.0.0.0 /8", "1:2", "::1/x",
  })
  void rejectsWhatIsNotALiteralAddressBlock(String text) {
    assertThatThrownBy(() -> CidrBlock.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @Test
  void literalParsesIpv4AndIpv6() {
    assertThat(CidrBlock.literal("192.0.2.1")).isInstanceOf(Inet4Address.class)
        .extracting(InetAddress::getHostAddress).isEqualTo("192.0.2.1");
    assertThat(CidrBlock.literal("2001:db8::1")).isInstanceOf(Inet6Address.class);
    assertThat(CidrBlock.literal("[2001:db8::1]")).isEqualTo(CidrBlock.literal("2001:db8::1"));
    assertThat(CidrBlock.literal("2001:DB8::1")).isEqualTo(CidrBlock.literal("2001:db8::1"));
  }

  @ParameterizedTest(name = "literal(\"{0}\") is null")
  @ValueSource(strings = {
      "", "[]", "example.com", "localhost", "1e100", "beef", "cafe.babe", "abc", "fe80::1%eth0", "1:2", "::g",
      "10.0.0.1 ", "unknown", "_hidden",
  })
  void literalReturnsNullForNamesAndNonsense(String text) {
    assertThat(CidrBlock.literal(text)).isNull();
  }

  // ---- DNS: observed in a child JVM whose name resolver records every lookup ----

  /** Resolves nothing and prints every name it is asked for. Installed in the child JVM only. */
  public static final class RecordingResolverProvider extends InetAddressResolverProvider {
    @Override
    public InetAddressResolver get(Configuration configuration) {
      InetAddressResolver builtin = configuration.builtinResolver();
      return new InetAddressResolver() {
        @Override
        public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
          System.out.println("DNS-LOOKUP " + host);
          throw new UnknownHostException(host);
        }

        @Override
        public String lookupByAddress(byte[] addr) throws UnknownHostException {
          return builtin.lookupByAddress(addr);
        }
      };
    }

    @Override
    public String name() {
      return "recording";
    }
  }

  /**
   * The child JVM's main: calls {@link CidrBlock#literal} on each argument, or, for an argument
   * {@code resolve:NAME}, resolves NAME the ordinary way.
   */
  public static final class LiteralProbe {
    public static void main(String[] args) {
      for (String a : args) {
        if (a.startsWith("resolve:")) {
          try {
            System.out.println("RESOLVED " + InetAddress.getByName(a.substring(8)));
          } catch (UnknownHostException e) {
            System.out.println("UNRESOLVED " + a.substring(8));
          }
        } else {
          System.out.println("LITERAL " + a + " -> " + CidrBlock.literal(a));
        }
      }
    }
  }

  /** @return the names the child JVM's resolver was asked for while running {@code args} */
  private static List<String> dnsLookupsOfProbe(Path dir, String... args) throws IOException, InterruptedException {
    Path services = dir.resolve("META-INF/services/" + InetAddressResolverProvider.class.getName());
    Files.createDirectories(services.getParent());
    Files.writeString(services, RecordingResolverProvider.class.getName() + "\n");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(dir + File.pathSeparator + System.getProperty("java.class.path"));
    command.add(LiteralProbe.class.getName());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    // The probe must have handled every argument, or an absent lookup proves nothing.
    assertThat(output.lines().filter(l -> l.matches("(LITERAL|RESOLVED|UNRESOLVED) .*"))).as(output)
        .hasSize(args.length);
    return output.lines().filter(l -> l.startsWith("DNS-LOOKUP ")).map(l -> l.substring(11)).toList();
  }

  @Test
  void theRecordingResolverSeesALookupWhenOneHappens(@TempDir Path dir) throws Exception {
    // Guards the tests below: an empty list of lookups means none happened, not that the
    // recording resolver was missing.
    assertThat(dnsLookupsOfProbe(dir, "resolve:probe.invalid")).containsExactly("probe.invalid");
  }

  @Test
  void hostNamesAreRejectedWithoutAskingDns(@TempDir Path dir) throws Exception {
    List<String> lookups = dnsLookupsOfProbe(dir,
        "example.com", "1e100", "beef", "localhost", "cafe.babe", "deadbeef", "abc.def");

    assertThat(lookups).isEmpty();
  }

  @Test
  void numericLookingNonAddressesAreRejectedWithoutAskingDns(@TempDir Path dir) throws Exception {
    List<String> lookups = dnsLookupsOfProbe(dir, "999.1.1.1", "1.2.3.4.5", "255.255.255.256", "1.", ".1");

    assertThat(lookups).isEmpty();
  }

  @Test
  void shorthandIpv4IsNotAnAddress() {
    assertThat(CidrBlock.literal("10.1")).isNull();
    assertThat(CidrBlock.literal("1234567")).isNull();
    assertThatThrownBy(() -> CidrBlock.parse("10.1/16")).isInstanceOf(IllegalArgumentException.class);
  }
}
