package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.Response;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules for admin endpoints a plugin adds to its context. */
class HostPluginContextTest {
  private static final AdminEndpoint OK = request -> Response.text(200, "text/plain", "ok");

  @TempDir Path dataDir;

  private HostPluginContext context() {
    LoadedPlugin plugin = new LoadedPlugin("cache-mcp", Phase.CACHE, Path.of("cache-mcp.jar"), null,
        getClass().getClassLoader());
    return new HostPluginContext(plugin, new PrometheusPluginMetrics("cache-mcp", new CollectorRegistry(true),
        PrometheusPluginMetrics.newStore()), Clock.systemUTC(), dataDir, request -> {
          throw new IllegalStateException("no routes in this test");
        }, null, "/peer/", false);
  }

  @Test
  void endpointsAddedInCreateAreHandedOverByName() {
    HostPluginContext context = context();
    context.adminEndpoint("purge", OK);
    context.adminEndpoint("stats-2", OK);

    assertThat(context.sealAdminEndpoints()).containsOnlyKeys("purge", "stats-2");
  }

  @Test
  void aNameOutsideLowerCaseLettersDigitsAndDashesIsRefused() {
    HostPluginContext context = context();
    for (String name : new String[] {"Purge", "purge/all", "-purge", "", "purge all", "purge_all"}) {
      assertThatThrownBy(() -> context.adminEndpoint(name, OK)).as(name)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("endpoint names use lower-case letters, digits and dashes");
    }
    assertThatThrownBy(() -> context.adminEndpoint(null, OK)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> context.adminEndpoint("purge", null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aNameAddedTwiceIsRefused() {
    HostPluginContext context = context();
    context.adminEndpoint("purge", OK);

    assertThatThrownBy(() -> context.adminEndpoint("purge", OK))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("plugin 'cache-mcp' adds the admin endpoint 'purge' twice; each name can be added once per"
            + " configuration generation");
  }

  @Test
  void anEndpointAddedAfterCreateReturnedIsRefused() {
    HostPluginContext context = context();
    context.sealAdminEndpoints();

    assertThatThrownBy(() -> context.adminEndpoint("purge", OK))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("after create returned; add admin endpoints in create");
    assertThat(context.sealAdminEndpoints()).isEmpty();
  }
}
