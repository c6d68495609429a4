package dev.portalgateway.portal.crypto;

import static dev.portalgateway.portal.wire.TestVectors.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.portal.wire.PieceByPieceInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Encrypted frames: the Go vector both ways, splitting, reassembly and tamper detection. */
class SecureChannelTest {
  private static final byte[] KEY = hex("encrypted_frame.key");

  private static SecureChannel reading(InputStream raw) {
    return new SecureChannel(raw, OutputStream.nullOutputStream(), KEY, KEY, null, "http/1.1");
  }

  private static SecureChannel writing(OutputStream raw) {
    return new SecureChannel(InputStream.nullInputStream(), raw, KEY, KEY, null, "http/1.1");
  }

  @Test
  void goFrameDecryptsToThePlaintext() throws Exception {
    SecureChannel channel = reading(new ByteArrayInputStream(hex("encrypted_frame.framed")));

    assertThat(new String(channel.input().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo(string("encrypted_frame.plaintext_utf8"));
  }

  @Test
  void plaintextEncryptsToTheGoFrameWithTheVectorNonce() throws Exception {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    byte[] nonce = hex("encrypted_frame.nonce");
    SecureChannel channel = new SecureChannel(InputStream.nullInputStream(), raw, KEY, KEY, null, "http/1.1",
        nonce::clone);

    channel.output().write(string("encrypted_frame.plaintext_utf8").getBytes(StandardCharsets.UTF_8));

    assertThat(raw.toByteArray()).isEqualTo(hex("encrypted_frame.framed"));
  }

  @Test
  void tamperedCiphertextIsAnErrorAndStaysOne() {
    byte[] frame = hex("encrypted_frame.framed");
    frame[20] ^= 1;
    SecureChannel channel = reading(new ByteArrayInputStream(frame));

    assertThatThrownBy(() -> channel.input().read()).isInstanceOf(IOException.class)
        .hasMessageContaining("authentication");
    assertThatThrownBy(() -> channel.input().read()).isInstanceOf(IOException.class);
  }

  @Test
  void wrongKeyIsAnError() {
    byte[] otherKey = hex("session_keys.server_to_client_key");
    SecureChannel channel = new SecureChannel(new ByteArrayInputStream(hex("encrypted_frame.framed")),
        OutputStream.nullOutputStream(), otherKey, otherKey, null, "http/1.1");

    assertThatThrownBy(() -> channel.input().readAllBytes()).isInstanceOf(IOException.class);
  }

  @Test
  void invalidFrameLengthsAreErrors() {
    HexFormat hex = HexFormat.of();
    assertThatThrownBy(() -> reading(new ByteArrayInputStream(hex.parseHex("04000001"))).input().read())
        .isInstanceOf(IOException.class).hasMessageContaining("length");
    assertThatThrownBy(() -> reading(new ByteArrayInputStream(hex.parseHex("0000001b" + "00".repeat(27))))
        .input().read()).isInstanceOf(IOException.class).hasMessageContaining("length");
    byte[] truncated = hex("encrypted_frame.framed");
    assertThatThrownBy(() -> reading(new ByteArrayInputStream(truncated, 0, truncated.length - 1))
        .input().readAllBytes()).isInstanceOf(IOException.class);
  }

  @Test
  void aFrameLongerThanAnyWriterSendsIsRefusedBeforeItsBodyIsRead() {
    int tooLong = SecureChannel.MAX_READ_FRAME_LENGTH + 1; // still under the protocol's 64 MiB ceiling
    byte[] prefix = {(byte) (tooLong >>> 24), (byte) (tooLong >>> 16), (byte) (tooLong >>> 8), (byte) tooLong};
    // Only the length is there: were the frame buffered, the read would end in EOF, not this error.
    assertThatThrownBy(() -> reading(new ByteArrayInputStream(prefix)).input().read())
        .isInstanceOf(IOException.class).hasMessageContaining("invalid encrypted frame length " + tooLong);
  }

  @Test
  void fortyMebibyteWriteIsSplitIntoTwoFramesAndReassembled() throws Exception {
    byte[] plaintext = new byte[40 << 20];
    new Random(40).nextBytes(plaintext);
    ByteArrayOutputStream raw = new ByteArrayOutputStream(plaintext.length + 1024);

    writing(raw).output().write(plaintext);

    byte[] wire = raw.toByteArray();
    List<Integer> lengths = frameLengths(wire);
    assertThat(lengths).containsExactly(12 + (32 << 20) + 16, 12 + (8 << 20) + 16);
    assertThat(reading(new ByteArrayInputStream(wire)).input().readAllBytes()).isEqualTo(plaintext);
  }

  @Test
  void readsOfArbitraryPieceSizesReassembleEveryFrame() throws Exception {
    Random random = new Random(7);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    OutputStream out = writing(raw).output();
    for (int i = 0; i < 50; i++) {
      byte[] piece = new byte[random.nextInt(5000)];
      random.nextBytes(piece);
      out.write(piece);
      expected.write(piece);
    }

    for (int maxPiece : new int[] {1, 7, 4096}) {
      InputStream in = reading(new PieceByPieceInputStream(raw.toByteArray(), maxPiece, maxPiece)).input();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buffer = new byte[997];
      int n;
      while ((n = in.read(buffer, 0, 1 + random.nextInt(buffer.length))) >= 0) {
        got.write(buffer, 0, n);
      }
      assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
    }
  }

  @Test
  void emptyFramesAreSkippedAndEndOfStreamAtABoundaryIsMinusOne() throws Exception {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    // An empty frame as Go writes it for a zero-length Write.
    raw.write(hex("0000001c"));
    raw.write(encryptEmpty());
    writing(raw).output().write(new byte[] {42});
    InputStream in = reading(new ByteArrayInputStream(raw.toByteArray())).input();

    assertThat(in.read()).isEqualTo(42);
    assertThat(in.read()).isEqualTo(-1);
  }

  private static byte[] hex(String pathOrHex) {
    return pathOrHex.contains("_") || pathOrHex.contains(".")
        ? dev.portalgateway.portal.wire.TestVectors.hex(pathOrHex)
        : HexFormat.of().parseHex(pathOrHex);
  }

  private static byte[] encryptEmpty() throws Exception {
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    // Our writer emits nothing for a zero-length write, so the empty frame is built by hand.
    javax.crypto.Cipher cipher = javax.crypto.Cipher.getInstance("ChaCha20-Poly1305");
    byte[] nonce = new byte[12];
    cipher.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(KEY, "ChaCha20"),
        new javax.crypto.spec.IvParameterSpec(nonce));
    frame.write(nonce);
    frame.write(cipher.doFinal(new byte[0]));
    return frame.toByteArray();
  }

  private static List<Integer> frameLengths(byte[] wire) {
    List<Integer> lengths = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.wrap(wire);
    while (buffer.hasRemaining()) {
      int length = buffer.getInt();
      lengths.add(length);
      buffer.position(buffer.position() + length);
    }
    return lengths;
  }
}
