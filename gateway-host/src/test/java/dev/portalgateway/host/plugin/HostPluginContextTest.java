package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.AdminEndpoint;
import dev.portalgateway.api.Phase;
import dev.portalgateway.api.PublicEndpoint;
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

  private static final PublicEndpoint PUBLIC_OK = request -> Response.text(200, "text/plain", "ok");

  private HostPluginContext context() {
    return context("/peer/", false);
  }

  private HostPluginContext context(String routePrefix, boolean lifetime) {
    LoadedPlugin plugin = new LoadedPlugin("cache-mcp", Phase.CACHE, Path.of("cache-mcp.jar"), null,
        getClass().getClassLoader());
    return new HostPluginContext(plugin, new PrometheusPluginMetrics("cache-mcp", new CollectorRegistry(true),
        PrometheusPluginMetrics.newStore()), Clock.systemUTC(), dataDir, request -> {
          throw new IllegalStateException("no routes in this test");
        }, null, routePrefix, lifetime);
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

  // ---- public endpoints ----

  @Test
  void publicEndpointsAddedInCreateAreHandedOverByPath() {
    HostPluginContext context = context();
    context.publicEndpoint("/.well-known/oauth-protected-resource", PUBLIC_OK);
    context.publicEndpoint("/auth/callback_2~x", PUBLIC_OK);
    context.publicEndpoint("/...", PUBLIC_OK);
    context.sealAdminEndpoints();

    assertThat(context.publicEndpoints()).containsOnlyKeys("/.well-known/oauth-protected-resource",
        "/auth/callback_2~x", "/...");
  }

  @Test
  void aPublicEndpointPathMustBeAbsoluteSegmentsWithoutTrailingSlashOrDotSegments() {
    HostPluginContext context = context();
    for (String path : new String[] {"", "/", "relative", "well-known/x", "/trailing/", "//double", "/a//b",
        "/a b", "/a?b", "/a%2Fb", "/.", "/..", "/a/.", "/a/..", "/./a", "/../a", "/a/../b", "/a/./b"}) {
      assertThatThrownBy(() -> context.publicEndpoint(path, PUBLIC_OK)).as(path)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("plugin 'cache-mcp' adds a public endpoint at '" + path + "'");
    }
    assertThatThrownBy(() -> context.publicEndpoint(null, PUBLIC_OK)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> context.publicEndpoint("/x", null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aPublicEndpointWhereRoutesAreMountedIsRefused() {
    HostPluginContext context = context("/t/peer/", false);
    for (String path : new String[] {"/t/peer", "/t/peer/docs", "/t"}) {
      assertThatThrownBy(() -> context.publicEndpoint(path, PUBLIC_OK)).as(path)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("server.route_prefix /t/peer/");
    }
    context.publicEndpoint("/peer/x", PUBLIC_OK); // not where routes are, with this prefix
    context.publicEndpoint("/t/peers", PUBLIC_OK);
    assertThat(context.routePrefix()).isEqualTo("/t/peer/");
  }

  @Test
  void aPublicEndpointAddedTwiceOrAfterCreateIsRefused() {
    HostPluginContext context = context();
    context.publicEndpoint("/login", PUBLIC_OK);

    assertThatThrownBy(() -> context.publicEndpoint("/login", PUBLIC_OK))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'/login' twice");
    context.sealAdminEndpoints();
    assertThatThrownBy(() -> context.publicEndpoint("/logout", PUBLIC_OK))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("after create returned");
    assertThat(context.publicEndpoints()).containsOnlyKeys("/login");
  }

  @Test
  void aLifetimeContextAddsNoEndpoints() {
    HostPluginContext lifetime = context("/peer/", true);

    assertThatThrownBy(() -> lifetime.publicEndpoint("/login", PUBLIC_OK))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lasting state's context");
    assertThatThrownBy(() -> lifetime.adminEndpoint("purge", OK))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lasting state's context");
  }
}
