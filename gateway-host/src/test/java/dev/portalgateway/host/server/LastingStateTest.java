package dev.portalgateway.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.plugin.TestPluginJars;
import dev.portalgateway.host.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin's lasting state ({@code PluginContext.lasting}) in a real gateway: kept across a
 * configuration reload, made once, closed when the gateway stops after the last filter.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LastingStateTest {
  private static final String PLUGIN = "lasting-demo";

  @TempDir static Path plugins;
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();

  @BeforeAll
  static void buildPluginJar() throws Exception {
    String cls = "test.lasting.LastingDemo";
    TestPluginJars.build(plugins, "lasting.jar", cls, TestPluginJars.pluginSource(cls, PLUGIN, Phase.DELIVER, """
            String greeting = String.valueOf(config.asMap().getOrDefault("greeting", "hello"));
            if (config.asMap().containsKey("fail")) {
              context.lasting(Locked.class, lifetime -> {
                throw new java.io.IOException("the state file is locked by another process");
              });
            }
            State state = context.lasting(State.class, lifetime -> {
              int n = made.incrementAndGet();
              events.add("state created " + n);
              return new State(n, lifetime.scheduler());
            });
            int generation = generations.incrementAndGet();
            events.add("filter created " + generation);
            return new Filter() {
              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                String ran;
                try {
                  // The lifetime scheduler outlives the generation that made the state.
                  ran = state.scheduler.submit(() -> "ran").get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                  ran = e.toString();
                }
                return Response.text(200, "text/plain", greeting + " state=" + state.id + "@"
                    + System.identityHashCode(state) + " scheduler=" + ran);
              }

              @Override
              public void close() {
                events.add("filter closed " + generation);
              }
            };
        """, """
          public static final java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
          public static final java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
          static final java.util.concurrent.atomic.AtomicInteger generations = new java.util.concurrent.atomic.AtomicInteger();

          public static final class State implements AutoCloseable {
            final int id;
            final java.util.concurrent.ScheduledExecutorService scheduler;

            State(int id, java.util.concurrent.ScheduledExecutorService scheduler) {
              this.id = id;
              this.scheduler = scheduler;
            }

            @Override
            public void close() {
              events.add("state closed " + id);
            }
          }

          public static final class Locked {}
        """));
  }

  @BeforeEach
  void captureLog() {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreLog() {
    JsonLog.redirect(System.out);
  }

  /** The server keys after {@code listen}, a route and the plugin section. */
  private String yamlBody(String pluginSettings) {
    // The plugin answers every request itself: the upstream is never called.
    return "  plugins_dir: \"" + plugins + "\"\n  data_dir: \"" + dir.resolve("data") + "\"\n"
        + "  config_reload_interval: 50ms\n"
        + "upstreams:\n  svc: \"http://127.0.0.1:9\"\n"
        + "plugins:\n  " + PLUGIN + ":\n" + pluginSettings;
  }

  private void rewrite(String pluginSettings) throws Exception {
    String yaml = TestGateway.serverSection("jdk", yamlBody(pluginSettings)) + "relay:\n  enabled: false\n";
    Path tmp = dir.resolve("gateway.yaml.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, dir.resolve("gateway.yaml"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String get(TestGateway g, String path) {
    try {
      return g.get(path).body();
    } catch (Exception e) {
      return "";
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited 20 s for " + what);
      }
      Thread.sleep(20);
    }
  }

  @SuppressWarnings("unchecked")
  private static List<String> events(TestGateway g) throws Exception {
    ClassLoader loader = g.gateway().runtimes().peek().filters().get(0).loader();
    return (List<String>) loader.loadClass("test.lasting.LastingDemo").getField("events").get(null);
  }

  @Test
  void theStateIsMadeOnceKeptAcrossAReloadAndClosedAfterTheLastFilter() throws Exception {
    List<String> events;
    try (TestGateway g = TestGateway.start("jdk", yamlBody("    greeting: hello\n"), dir)) {
      events = events(g);
      String first = get(g, "/peer/svc/");
      assertThat(first).startsWith("hello state=1@").endsWith(" scheduler=ran");
      String state = first.substring("hello ".length(), first.indexOf(" scheduler="));

      rewrite("    greeting: bonjour\n");
      await(() -> get(g, "/peer/svc/").startsWith("bonjour "), "the reloaded configuration");
      // The new generation's filter got the very same object, whose lifetime scheduler still runs
      // after the generation that made it is closed.
      await(() -> events.contains("filter closed 1"), "the first generation to close");
      assertThat(get(g, "/peer/svc/")).isEqualTo("bonjour " + state + " scheduler=ran");
      assertThat(events).containsExactly("state created 1", "filter created 1", "filter created 2",
          "filter closed 1");
    }
    // Stopping closes the last generation's filter, and then the state.
    assertThat(events).containsExactly("state created 1", "filter created 1", "filter created 2",
        "filter closed 1", "filter closed 2", "state closed 1");
  }

  @Test
  void aFactoryThatFailsRefusesTheConfigurationWithItsMessage() {
    assertThatThrownBy(() -> TestGateway.start("jdk", yamlBody("    fail: true\n"), dir).close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("plugins." + PLUGIN)
        .hasMessageContaining("the state file is locked by another process");
  }

  @Test
  void aReloadWhoseFactoryFailsIsRefusedAndTheStateInUseKept() throws Exception {
    try (TestGateway g = TestGateway.start("jdk", yamlBody("    greeting: hello\n"), dir)) {
      List<String> events = events(g);
      String before = get(g, "/peer/svc/");

      rewrite("    greeting: bonjour\n    fail: true\n");
      g.awaitMetrics("portal_gateway_config_reloads_total{outcome=\"rejected\",} 1.0");

      assertThat(get(g, "/peer/svc/")).isEqualTo(before);
      JsonLog.flush();
      assertThat(log.toString(StandardCharsets.UTF_8)).contains("the state file is locked by another process");
      // The refused generation's filter was never made; the state was made once.
      assertThat(events).containsExactly("state created 1", "filter created 1");
    }
  }
}
