package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick start's demo section, followed word for word ({@link Walkthrough}): the README's
 * {@code java -jar dist/portal-gateway.jar demo}, then every command the section shows, each
 * checked against the output the section shows: a 401 without the demo's key, a 200 with it, an
 * MCP {@code tools/list} that is a cache MISS and then a HIT, 200 200 200 429 on the rate-limited
 * lease, the event stream, the lease by its ID, and the metrics.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DemoWalkthroughTest {
  static final Path QUICKSTART = GatewayProcess.DIST.getParent().resolve("docs/quickstart.md");

  @TempDir
  Path dir;

  @Test
  void theQuickStartsDemoSectionWorksAsWritten() throws Exception {
    try (Walkthrough w = new Walkthrough(dir, 8080, 9090, 4017)) {
      w.follow(QUICKSTART, "## 3. Run the demo");

      // Every command the demo printed under "Try" is one the section ran, as printed.
      List<String> printed = new ArrayList<>();
      boolean inTry = false;
      for (String line : w.printed(0).split("\n")) {
        if (line.startsWith("Try")) {
          inTry = true;
        } else if (line.startsWith("Stop with")) {
          inTry = false;
        } else if (inTry && !line.isBlank() && !line.strip().startsWith("#")) {
          printed.add(line.strip());
        }
      }
      assertThat(printed).hasSizeGreaterThanOrEqualTo(7);
      assertThat(w.ran()).containsAll(printed);

      assertThat(w.stop(0)).as("the demo's exit status after Ctrl-C (SIGTERM)").isZero();
    }
  }
}
