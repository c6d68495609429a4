package dev.portalgateway.portal.yamux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.portalgateway.portal.wire.PieceByPieceInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fuzz targets for yamux: the 12-byte frame header, and a whole session reading what the relay
 * sends. Replayed on {@code src/test/resources/dev/portalgateway/portal/yamux/YamuxFuzzTestInputs/<method>/}
 * by every test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class YamuxFuzzTest {

  /** A header decodes to the same 12 bytes it encodes to, or is refused as a protocol error. */
  @FuzzTest
  void header(byte[] input) throws YamuxProtocolException {
    if (input.length < YamuxHeader.SIZE) {
      return;
    }
    YamuxHeader header;
    try {
      header = YamuxHeader.decode(input, 0);
    } catch (YamuxProtocolException expected) {
      assertThat(input[0] != 0 || (input[1] & 0xFF) > YamuxHeader.TYPE_GO_AWAY).isTrue();
      return;
    }
    assertThat(header.encode()).isEqualTo(Arrays.copyOf(input, YamuxHeader.SIZE));
    assertThat(header.toString()).isNotEmpty();
  }

  /**
   * A session (client role, one stream already opened, as the gateway has) reading the relay's
   * bytes, split anywhere: the session ends when the bytes do, normally or with a protocol
   * error, within seconds; an unexpected exception in the reader ("internal error") is a finding.
   * The first byte picks the read size.
   */
  @FuzzTest
  void session(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    byte[] peer = Arrays.copyOfRange(input, 1, input.length);
    OutputStream sink = new OutputStream() {
      private final ByteArrayOutputStream written = new ByteArrayOutputStream();

      @Override
      public synchronized void write(int b) {
        written.write(b);
      }

      @Override
      public synchronized void write(byte[] b, int off, int len) {
        written.write(b, off, len);
      }
    };
    YamuxConfig config = YamuxConfig.defaults().withKeepalive(Duration.ZERO, Duration.ofSeconds(1));
    YamuxSession session = new YamuxSession(new PieceByPieceInputStream(peer, 1 + (input[0] & 0x7F), input[0]), sink,
        () -> { }, YamuxSession.Role.CLIENT, config, "fuzz");
    YamuxStream opened = session.openStream();
    session.start();
    try {
      session.closeFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException ended) {
      Throwable cause = ended.getCause();
      assertThat(cause).isInstanceOf(IOException.class);
      // The reader ends the session with "yamux: internal error" when anything but an
      // IOException escapes it (a peer's GoAway with the internal-error code is another thing).
      assertThat(cause.getCause() instanceof RuntimeException).as("the reader failed: %s", cause.getCause()).isFalse();
      assertThat(String.valueOf(cause.getMessage())).doesNotStartWith("yamux: internal error");
    } catch (TimeoutException e) {
      fail("the session did not end within 10 s of its input's end");
    }
    assertThat(opened.bufferedBytes()).isLessThanOrEqualTo(YamuxConfig.INITIAL_STREAM_WINDOW);
    assertThat(session.isClosed()).isTrue();
  }
}
