package dev.portalgateway.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BodyTest {

  /** A stream that remembers whether it was closed. */
  private static final class TrackedStream extends ByteArrayInputStream {
    boolean closed;

    TrackedStream(String text) {
      super(text.getBytes(UTF_8));
    }

    @Override
    public void close() throws IOException {
      closed = true;
      super.close();
    }
  }

  private static String read(Body body) throws IOException {
    try (InputStream in = body.open()) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  @Test
  void ofBytesIsReplayableWithItsLength() throws IOException {
    Body body = Body.of("hello".getBytes(UTF_8));

    assertThat(body.isReplayable()).isTrue();
    assertThat(body.length()).isEqualTo(5);
    assertThat(read(body)).isEqualTo("hello");
    assertThat(read(body)).isEqualTo("hello");
  }

  @Test
  void ofStringIsEncodedAsUtf8() throws IOException {
    Body body = Body.of("héllo");
    assertThat(body.length()).isEqualTo(6);
    assertThat(read(body)).isEqualTo("héllo");
  }

  @Test
  void emptyBodyHasNoBytes() throws IOException {
    assertThat(Body.empty().length()).isZero();
    assertThat(Body.empty().isReplayable()).isTrue();
    assertThat(read(Body.empty())).isEmpty();
  }

  @Test
  void streamOpensOnceThenRefuses() throws IOException {
    Body body = Body.ofStream(new TrackedStream("data"), 4);

    assertThat(body.isReplayable()).isFalse();
    assertThat(body.length()).isEqualTo(4);
    assertThat(read(body)).isEqualTo("data");
    assertThatThrownBy(body::open)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("buffered");
  }

  @Test
  void bufferedTurnsAStreamIntoAReplayableBody() throws IOException {
    TrackedStream source = new TrackedStream("0123456789");
    Body body = Body.ofStream(source, 10).buffered(10);

    assertThat(body.isReplayable()).isTrue();
    assertThat(body.length()).isEqualTo(10);
    assertThat(read(body)).isEqualTo("0123456789");
    assertThat(read(body)).isEqualTo("0123456789");
    assertThat(source.closed).isTrue();
  }

  @Test
  void bufferedWorksForAStreamOfUnknownLength() throws IOException {
    Body body = Body.ofStream(new TrackedStream("0123456789"), -1).buffered(10);

    assertThat(body.length()).isEqualTo(10);
    assertThat(read(body)).isEqualTo("0123456789");
    assertThat(read(body)).isEqualTo("0123456789");
  }

  @Test
  void bufferedRefusesADeclaredLengthOverTheLimitAndReleasesTheStream() {
    TrackedStream source = new TrackedStream("0123456789");
    Body body = Body.ofStream(source, 10);

    assertThatThrownBy(() -> body.buffered(9))
        .isInstanceOfSatisfying(BodyTooLargeException.class, e -> {
          assertThat(e.limit()).isEqualTo(9);
          assertThat(e.problem().status()).isEqualTo(413);
        });
    assertThat(source.closed).isTrue();
  }

  @Test
  void bufferedRefusesAnUnknownLengthStreamThatTurnsOutTooLong() {
    TrackedStream source = new TrackedStream("0123456789");
    Body body = Body.ofStream(source, -1);

    assertThatThrownBy(() -> body.buffered(9))
        .isInstanceOfSatisfying(BodyTooLargeException.class, e -> assertThat(e.limit()).isEqualTo(9));
    assertThat(source.closed).isTrue();
  }

  @Test
  void bufferedRefusesAStreamLongerThanItDeclared() {
    Body body = Body.ofStream(new TrackedStream("0123456789"), 3);

    assertThatThrownBy(() -> body.buffered(5)).isInstanceOf(BodyTooLargeException.class);
  }

  @Test
  void bufferedOfReplayableBytesChecksTheLimit() throws IOException {
    Body body = Body.of("0123456789");

    assertThat(body.buffered(10)).isSameAs(body);
    assertThatThrownBy(() -> body.buffered(9)).isInstanceOf(BodyTooLargeException.class);
  }

  @Test
  void bufferedOfAMappedReplayableBodyChecksTheLimit() {
    Body mapped = Body.of("0123456789").map(in -> in);

    assertThatThrownBy(() -> mapped.buffered(5)).isInstanceOf(BodyTooLargeException.class);
  }

  @Test
  void readAllReturnsEveryByte() throws IOException {
    assertThat(Body.ofStream(new TrackedStream("abc"), -1).readAll(3)).isEqualTo("abc".getBytes(UTF_8));
    assertThat(Body.of("abc").readAll(100)).isEqualTo("abc".getBytes(UTF_8));
  }

  @Test
  void readAllOfALargeStreamReadsPastOneBuffer() throws IOException {
    byte[] big = new byte[100_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) i;
    }
    assertThat(Body.ofStream(new ByteArrayInputStream(big), -1).readAll(big.length)).isEqualTo(big);
    assertThatThrownBy(() -> Body.ofStream(new ByteArrayInputStream(big), -1).readAll(big.length - 1))
        .isInstanceOf(BodyTooLargeException.class);
  }

  @Test
  void mapSeesTheBytesAsTheyPassAndHasUnknownLength() throws IOException {
    AtomicInteger counted = new AtomicInteger();
    Body mapped = Body.ofStream(new TrackedStream("abcdef"), 6).map(in -> new FilterInputStream(in) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        for (int i = 0; i < n; i++) {
          counted.incrementAndGet();
          b[off + i] = (byte) Character.toUpperCase(b[off + i]);
        }
        return n;
      }
    });

    assertThat(mapped.length()).isEqualTo(-1);
    assertThat(mapped.isReplayable()).isFalse();
    assertThat(read(mapped)).isEqualTo("ABCDEF");
    assertThat(counted).hasValue(6);
    assertThatThrownBy(mapped::open).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void mapOfAReplayableBodyAppliesTheTransformOnEachOpen() throws IOException {
    AtomicInteger opens = new AtomicInteger();
    Body mapped = Body.of("xy").map(in -> {
      opens.incrementAndGet();
      return in;
    });

    assertThat(mapped.isReplayable()).isTrue();
    assertThat(read(mapped)).isEqualTo("xy");
    assertThat(read(mapped)).isEqualTo("xy");
    assertThat(opens).hasValue(2);
  }

  @Test
  void closingTheMappedStreamClosesTheSource() throws IOException {
    TrackedStream source = new TrackedStream("abc");
    Body mapped = Body.ofStream(source, 3).map(in -> new FilterInputStream(in) {});
    mapped.open().close();
    assertThat(source.closed).isTrue();
  }

  @Test
  void discardClosesAnUnopenedStream() {
    TrackedStream source = new TrackedStream("abc");
    Body body = Body.ofStream(source, 3);

    body.discard();

    assertThat(source.closed).isTrue();
    assertThatThrownBy(body::open).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void discardOfAMappedStreamClosesTheSource() {
    TrackedStream source = new TrackedStream("abc");
    Body.ofStream(source, 3).map(in -> in).discard();
    assertThat(source.closed).isTrue();
  }

  @Test
  void discardAfterOpeningIsHarmless() throws IOException {
    TrackedStream source = new TrackedStream("abc");
    Body body = Body.ofStream(source, 3);
    InputStream in = body.open();

    body.discard();

    // The caller that opened it still owns the stream.
    assertThat(source.closed).isFalse();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    assertThat(out.toString(UTF_8)).isEqualTo("abc");
  }

  @Test
  void discardOfAReplayableBodyKeepsItReadable() throws IOException {
    Body body = Body.of("abc");
    body.discard();
    assertThat(read(body)).isEqualTo("abc");
  }
}
