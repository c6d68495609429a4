package dev.portalgateway.portal.yamux;

import java.time.Duration;

/**
 * Tunables of a {@link YamuxSession}. The defaults match hashicorp/yamux's DefaultConfig so that a
 * Java peer behaves like the Go relay and tunnel expect.
 *
 * @param streamWindow      initial (and maximum) receive window per stream, in bytes; must stay
 *                          256 KiB to interoperate, because the peer assumes it without negotiation
 * @param acceptBacklog     how many peer-opened streams may wait for {@code acceptStream()} before
 *                          further ones are refused with RST
 * @param keepaliveInterval time between keepalive pings; {@link Duration#ZERO} disables them
 * @param pingTimeout       how long a ping may wait for its answer before the session is dead
 * @param writeTimeout      how long one transport write may block before the session is dead
 * @param maxFramePayload   largest Data payload we send in one frame, so that one busy stream
 *                          cannot hold the write lock for long
 * @param streamCloseTimeout after {@link YamuxStream#close()}, how long to wait for the peer's
 *                          FIN before resetting the stream so it cannot linger forever (Go's
 *                          StreamCloseTimeout)
 */
public record YamuxConfig(int streamWindow, int acceptBacklog, Duration keepaliveInterval,
             Duration pingTimeout, Duration writeTimeout, int maxFramePayload,
             Duration streamCloseTimeout) {

  /** The protocol's fixed initial stream window: 256 KiB. */
  public static final int INITIAL_STREAM_WINDOW = 256 * 1024;

  public YamuxConfig {
    if (streamWindow < INITIAL_STREAM_WINDOW) {
      throw new IllegalArgumentException("stream window below the protocol's 256 KiB");
    }
    if (acceptBacklog < 1 || maxFramePayload < 1) {
      throw new IllegalArgumentException("backlog and frame payload must be positive");
    }
  }

  /** hashicorp/yamux defaults: 256 KiB windows, backlog 256, ping every 30 s, 10 s timeouts. */
  public static YamuxConfig defaults() {
    return new YamuxConfig(INITIAL_STREAM_WINDOW, 256, Duration.ofSeconds(30),
        Duration.ofSeconds(10), Duration.ofSeconds(10), 64 * 1024, Duration.ofMinutes(5));
  }

  public YamuxConfig withKeepalive(Duration interval, Duration timeout) {
    return new YamuxConfig(streamWindow, acceptBacklog, interval, timeout, writeTimeout,
        maxFramePayload, streamCloseTimeout);
  }

  public YamuxConfig withWriteTimeout(Duration timeout) {
    return new YamuxConfig(streamWindow, acceptBacklog, keepaliveInterval, pingTimeout, timeout,
        maxFramePayload, streamCloseTimeout);
  }

  public YamuxConfig withStreamCloseTimeout(Duration timeout) {
    return new YamuxConfig(streamWindow, acceptBacklog, keepaliveInterval, pingTimeout, writeTimeout,
        maxFramePayload, timeout);
  }
}
