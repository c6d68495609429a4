package dev.portalgateway.portal.ws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;

/**
 * Fuzz targets for the WebSocket layer under yamux. Frame parsing itself is Java-WebSocket's
 * ({@code Draft_6455}); what the project owns is the decoder's configuration and the adaptor,
 * {@link WebSocketByteStream}, that turns messages into one byte stream. Replayed on
 * {@code src/test/resources/dev/portalgateway/portal/ws/WebSocketFuzzTestInputs/<method>/} by every
 * test run; fuzzed by {@code fuzz/run-fuzzers.sh}.
 */
class WebSocketFuzzTest {
  /** What a few bytes from the relay may make the decoder allocate, at most. */
  private static final long ALLOCATION_BOUND = 64L << 20;

  /**
   * Bytes from the relay through the frame decoder the relay connection uses, delivered in pieces
   * as socket reads deliver them (the first byte picks the size): frames, or
   * {@link InvalidDataException}; and never a large allocation that the bytes have not earned.
   */
  @FuzzTest
  void frames(byte[] input) {
    if (input.length == 0) {
      return;
    }
    Draft_6455 draft = WebSocketByteStream.relayDraft();
    int piece = 1 + (input[0] & 0x7F);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    try {
      for (int off = 1; off < input.length; off += piece) {
        byte[] part = Arrays.copyOfRange(input, off, Math.min(input.length, off + piece));
        draft.translateFrame(ByteBuffer.wrap(part));
      }
    } catch (InvalidDataException expected) {
      // the connection is closed with the exception's close code
    } catch (RuntimeException libraryBug) {
      // Java-WebSocket's own failure, contained: WebSocketClient.run catches a RuntimeException
      // from decoding, calls onError (the stream fails) and closes the connection with 1006, and
      // the relay link reconnects. Known: 1.6.0 throws a NullPointerException for a close frame
      // whose reason is not UTF-8 (input library-npe-close-reason-not-utf8).
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated decoding %s bytes", input.length).isLessThan(ALLOCATION_BOUND);
  }

  /**
   * The adaptor against a model: binary messages in, reads of any size out, with text messages,
   * close frames and lost connections in between. Reads return exactly the bytes of the messages
   * delivered, in order, whatever their boundaries; after a close frame they end (-1), after a
   * text message or a lost connection they fail, once the bytes already queued are read.
   */
  @FuzzTest
  void byteStream(FuzzedDataProvider data) throws IOException {
    int bound = data.consumeInt(1, 4096);
    WebSocketByteStream stream = new WebSocketByteStream("ws://fuzz/relay", bound);
    ByteArrayOutputStream queued = new ByteArrayOutputStream(); // the model: bytes delivered, not yet read
    boolean ended = false;
    boolean failed = false;
    while (data.remainingBytes() > 0) {
      switch (data.consumeInt(0, 5)) {
        case 0, 1 -> {
          byte[] message = data.consumeBytes(data.consumeInt(0, 2 * bound));
          long before = stream.queuedInboundBytes();
          if (ended || (before > 0 && before + message.length > bound)) {
            // Java-WebSocket delivers nothing after a close frame; and a full queue makes deliver
            // (rightly) wait for a reader, which this single thread is not.
            break;
          }
          stream.deliver(ByteBuffer.wrap(message));
          if (!ended && !failed) {
            queued.writeBytes(message);
          }
          assertThat(stream.queuedInboundBytes()).isEqualTo(queued.size());
        }
        case 2 -> {
          int len = data.consumeInt(1, 2 * bound);
          if (queued.size() == 0 && !ended && !failed) {
            break; // would block until a message arrives
          }
          byte[] buf = new byte[len];
          int n;
          try {
            n = stream.getInputStream().read(buf, 0, len);
          } catch (IOException e) {
            assertThat(failed && queued.size() == 0).as("read failed: %s", e.getMessage()).isTrue();
            break;
          }
          if (n < 0) {
            assertThat(ended && !failed && queued.size() == 0).as("end of stream").isTrue();
            break;
          }
          byte[] expected = queued.toByteArray();
          assertThat(n).isEqualTo(Math.min(len, expected.length));
          assertThat(Arrays.copyOf(buf, n)).isEqualTo(Arrays.copyOf(expected, n));
          queued.reset();
          queued.write(expected, n, expected.length - n);
        }
        case 3 -> {
          stream.deliverText();
          failed |= !ended;
        }
        case 4 -> {
          stream.closed(data.consumeBoolean() ? CloseFrame.NORMAL : CloseFrame.GOING_AWAY, "", true);
          ended |= !failed;
        }
        default -> {
          stream.closed(CloseFrame.ABNORMAL_CLOSE, "", true);
          failed |= !ended;
        }
      }
    }
    if (!ended && !failed) {
      assertThat(stream.getInputStream().readNBytes(queued.size())).isEqualTo(queued.toByteArray());
      return;
    }
    byte[] rest;
    try {
      rest = stream.getInputStream().readAllBytes();
    } catch (IOException e) {
      assertThat(failed).isTrue();
      return;
    }
    assertThat(failed).as("reads after a failure must fail").isFalse();
    if (!ended) {
      fail("readAllBytes returned without an end of stream");
    }
    assertThat(rest).isEqualTo(queued.toByteArray());
  }
}
