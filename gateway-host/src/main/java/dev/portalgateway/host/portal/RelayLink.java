package dev.portalgateway.host.portal;

import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.portal.client.RelayClient;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's one session with a Portal relay, shared by every request. It connects in the
 * background, tries the configured relay URLs in order, and reconnects with exponential backoff
 * and jitter whenever the session ends, so the gateway starts (and keeps serving plain upstreams)
 * while a relay is down.
 */
final class RelayLink implements AutoCloseable {
  private static final Duration FIRST_RETRY = Duration.ofMillis(250);

  private final List<String> urls;
  private final Duration connectTimeout;
  private final Duration reconnectMax;
  private final Thread loop;
  private final java.util.function.Consumer<Boolean> onConnected;
  private volatile RelayClient current;
  private volatile boolean closed;

  /** @param onConnected told {@code true} when a session is up, {@code false} when it ended */
  RelayLink(List<String> urls, Duration connectTimeout, Duration reconnectMax,
      java.util.function.Consumer<Boolean> onConnected) {
    this.onConnected = onConnected;
    this.urls = List.copyOf(urls);
    this.connectTimeout = connectTimeout;
    this.reconnectMax = reconnectMax;
    this.loop = Thread.ofVirtual().name("relay-link").unstarted(this::run);
  }

  RelayLink start() {
    loop.start();
    return this;
  }

  /** @return the connected session, or {@code null} while there is none */
  RelayClient current() {
    RelayClient c = current;
    return c != null && c.isOpen() ? c : null;
  }

  boolean isConnected() {
    return current() != null;
  }

  private void run() {
    long backoffMillis = FIRST_RETRY.toMillis();
    int failures = 0;
    while (!closed) {
      RelayClient client = null;
      for (String url : urls) {
        if (closed) {
          return;
        }
        try {
          client = RelayClient.connect(URI.create(url), connectTimeout);
          JsonLog.info("relay", "connected to Portal relay", "url", url);
          break;
        } catch (IOException | RuntimeException e) {
          if (failures == 0 || failures % 20 == 0) {
            // First failure and then now and again: a relay that stays down must not flood the log.
            JsonLog.warn("relay", "Cannot connect to Portal relay at " + url, "url", url, "error", e,
                "hint", "Check that the relay is running and reachable (relay.url, relay.urls); "
                    + "requests to leases get 503 until it is.");
          }
        }
      }
      if (client != null) {
        current = client;
        onConnected.accept(true);
        failures = 0;
        backoffMillis = FIRST_RETRY.toMillis();
        try {
          client.closed().get();
        } catch (Exception e) {
          // Ended with an error: reconnect all the same.
        }
        current = null;
        onConnected.accept(false);
        if (closed) {
          return;
        }
        JsonLog.warn("relay", "the Portal relay session ended; reconnecting", "url", client.url());
      } else {
        failures++;
      }
      sleep(backoffMillis / 2 + ThreadLocalRandom.current().nextLong(backoffMillis / 2 + 1));
      backoffMillis = Math.min(reconnectMax.toMillis(), backoffMillis * 2);
    }
  }

  private void sleep(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  @Override
  public void close() {
    closed = true;
    loop.interrupt();
    RelayClient c = current;
    if (c != null) {
      c.close();
    }
  }
}
