package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/walkthroughs/relay.md, the part on one machine, followed word for word ({@link Walkthrough}):
 * the built jar's development relay, a Python web server behind the development tunnel, a key
 * made for the lease, and the gateway reaching the lease by name and by ID through the relay.
 * Portal's own relay and portal-tunnel (Go) are not run: the page says so.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RelayWalkthroughTest {
  static final Path PAGE = GatewayProcess.DIST.getParent().resolve("docs/walkthroughs/relay.md");

  @TempDir
  Path dir;

  @Test
  void theRelayWalkthroughWorksAsWritten() throws Exception {
    try (Walkthrough w = new Walkthrough(dir, 8080, 9090, 4017, 3000)) {
      w.follow(PAGE, "## On one machine, with the development relay and tunnel");
      // relay, python, tunnel, add-key, export, gateway, 3 requests, readyz, metrics
      assertThat(w.ran()).hasSize(12);
      assertThat(w.stop(3)).as("the gateway's exit status after Ctrl-C (SIGTERM)").isZero();
      assertThat(w.stop(2)).as("the tunnel's exit status").isZero();
      assertThat(w.stop(0)).as("the relay's exit status").isZero();
    }
  }
}
