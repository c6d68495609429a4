package dev.portalgateway.portal.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Length-prefixed framing: limits, end of stream, and streams that deliver bytes in pieces. */
class PacketFramingTest {

  @Test
  void framesSurviveAStreamThatDeliversArbitraryPieces() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] large = new byte[100_000];
    for (int i = 0; i < large.length; i++) {
      large[i] = (byte) i;
    }
    PacketFraming.write(out, new byte[0]);
    PacketFraming.write(out, large);
    PacketFraming.write(out, new byte[] {7});

    for (int maxPiece : new int[] {1, 3, 1000}) {
      InputStream in = new PieceByPieceInputStream(out.toByteArray(), maxPiece, maxPiece);
      assertThat(PacketFraming.read(in)).isEmpty();
      assertThat(PacketFraming.read(in)).isEqualTo(large);
      assertThat(PacketFraming.read(in)).containsExactly(7);
      assertThatThrownBy(() -> PacketFraming.read(in)).isInstanceOf(EOFException.class);
    }
  }

  @Test
  void lengthAboveSixtyFourMebibytesIsRejectedBeforeReadingTheBody() {
    // 64 MiB + 1, then nothing: rejecting must not wait for (or allocate) the body.
    InputStream in = new ByteArrayInputStream(HexFormat.of().parseHex("04000001"));
    assertThatThrownBy(() -> PacketFraming.read(in)).isInstanceOf(WireFormatException.class);
    InputStream huge = new ByteArrayInputStream(HexFormat.of().parseHex("ffffffff"));
    assertThatThrownBy(() -> PacketFraming.read(huge)).isInstanceOf(WireFormatException.class);
  }

  @Test
  void endOfStreamInsideAFrameIsAnError() {
    InputStream in = new ByteArrayInputStream(HexFormat.of().parseHex("00000005010203"));
    assertThatThrownBy(() -> PacketFraming.read(in)).isInstanceOf(EOFException.class);
    InputStream prefixOnly = new ByteArrayInputStream(HexFormat.of().parseHex("0000"));
    assertThatThrownBy(() -> PacketFraming.read(prefixOnly)).isInstanceOf(EOFException.class);
  }
}
