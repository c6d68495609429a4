package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.ops.JsonLog;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.host.testing.TestGateway;
import io.prometheus.client.CollectorRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-route plugin configuration ({@code plugins.NAME.routes}): which routes a plugin serves, the
 * settings each route's filter gets, how many filters are made, and, through a real gateway, that
 * each request runs the filter of its route.
 */
class PerRouteConfigTest {
  private static final dev.portalgateway.api.Connector NO_ROUTES = request -> {
    throw new IllegalStateException("no routes in this test");
  };

  @TempDir static Path plugins;
  @TempDir Path dataDir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private PluginCatalog catalog;
  private FilterFactory factory;
  private FilterFactory.Plugins created;

  @BeforeAll
  static void buildPluginJar() throws Exception {
    Map<String, String> sources = new LinkedHashMap<>();
    // Records every create call: the route it was for, the settings it saw, its key path. Its
    // filter tells the upstream the "tag" setting it was made with.
    sources.put("test.routes.Recorder", TestPluginJars.pluginSource("test.routes.Recorder", "recorder", Phase.CACHE, """
            java.util.Map<String, Object> settings = config.asMap();
            seen.add(new Object[] {config.route(), settings, config.path()});
            String tag = String.valueOf(settings.get("tag"));
            return new Filter() {
              @Override
              public Response handle(Request request, Chain chain) throws java.io.IOException {
                return chain.proceed(request.withHeader("X-Tag", tag));
              }

              @Override
              public void close() {
                closed.incrementAndGet();
              }
            };
        """, """
          public static final java.util.List<Object[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
          public static final java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        """));
    // Binds its settings strictly: a host key that leaked through would be an unknown key.
    sources.put("test.routes.Bound", TestPluginJars.pluginSource("test.routes.Bound", "bound", Phase.LIMIT, """
            bound.add(config.bind(Settings.class).toString());
            return (request, chain) -> chain.proceed(request);
        """, """
          public record Limits(Integer rpm, Integer burst) {}

          public record Settings(String tag, Limits limits) {}

          public static final java.util.List<String> bound = new java.util.concurrent.CopyOnWriteArrayList<>();
        """));
    sources.put("test.routes.Picky", TestPluginJars.pluginSource("test.routes.Picky", "picky", Phase.AUTHORIZE, """
            if (config.asMap().containsKey("bad")) {
              throw new InvalidConfigException("bad is not allowed here");
            }
            return (request, chain) -> chain.proceed(request);
        """, ""));
    TestPluginJars.build(plugins, "routes.jar", sources, String.join("\n", sources.keySet()) + "\n");
  }

  @BeforeEach
  void loadCatalog() throws Exception {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
    catalog = PluginCatalog.load(plugins);
    factory = new FilterFactory(catalog, new CollectorRegistry(), Clock.systemUTC());
  }

  @AfterEach
  void closeEverything() throws Exception {
    if (created != null) {
      created.close();
    }
    factory.close();
    JsonLog.redirect(System.out);
    for (LoadedPlugin p : catalog.all()) {
      ((java.io.Closeable) p.loader()).close();
    }
  }

  private FilterFactory.Plugins create(String yaml) throws ConfigException {
    Map<String, JsonNode> section = new ConfigLoader(Map.<String, String>of()::get, Path.of("/unused"))
        .fromText(yaml, null).config().plugins();
    created = factory.create(section, dataDir, NO_ROUTES, "/peer/");
    return created;
  }

  private PluginBinding binding(String plugin) {
    return created.bindings().stream().filter(b -> b.plugin().equals(plugin)).findFirst().orElseThrow();
  }

  @SuppressWarnings("unchecked")
  private <T> T staticField(String plugin, String field) throws Exception {
    return (T) catalog.require(plugin).plugin().getClass().getField(field).get(null);
  }

  /** @return the recorder's create calls, as [route, settings, path] */
  private List<Object[]> recorded() throws Exception {
    return staticField("recorder", "seen");
  }

  // ---- which routes a plugin serves ----

  @Test
  void aListedRouteRunsThePluginThereUnlessItSaysEnabledFalse() throws Exception {
    create("""
        plugins:
          recorder:
            tag: base
            routes:
              hooks: { enabled: false }
              "internal-*": { enabled: false }
              docs: { tag: d }
              api: { enabled: true, tag: a }
        """);
    PluginBinding b = binding("recorder");

    assertThat(b.forRoute("hooks")).isNull();
    assertThat(b.forRoute("internal-billing")).isNull();
    assertThat(b.forRoute("docs").route()).isEqualTo("docs");
    assertThat(b.forRoute("api").route()).isEqualTo("api");
    assertThat(b.forRoute("other").route()).isNull();
    assertThat(created.filters()).hasSize(3);
  }

  @Test
  void disabledAtTheTopWithRoutesListedThePluginRunsOnThoseRoutesOnly() throws Exception {
    create("""
        plugins:
          recorder:
            enabled: false
            tag: base
            routes:
              docs: {}
              "api-*": { tag: p }
              hooks: { enabled: false }
        """);
    PluginBinding b = binding("recorder");

    assertThat(b.forRoute("docs")).isNotNull();
    assertThat(b.forRoute("api-v1").route()).isEqualTo("api-*");
    assertThat(b.forRoute("hooks")).isNull();
    assertThat(b.forRoute("other")).isNull();
    // No filter for a default configuration that no route uses.
    assertThat(recorded()).extracting(r -> r[0]).containsExactly("docs", "api-*");
    assertThat(recorded().get(0)[1]).isEqualTo(Map.of("tag", "base"));
  }

  @Test
  void theMostSpecificKeyDecidesAndEquallySpecificPatternsKeepTheirOrder() throws Exception {
    create("""
        plugins:
          recorder:
            tag: base
            routes:
              "*": { tag: any }
              "ab*": { tag: ab }
              "*yz": { tag: yz }
              "abc*": { tag: abc }
              abyz: { tag: exact }
        """);
    PluginBinding b = binding("recorder");

    assertThat(b.forRoute("abyz").route()).isEqualTo("abyz");
    assertThat(b.forRoute("ab-yz").route()).isEqualTo("ab*"); // listed before *yz, as specific
    assertThat(b.forRoute("abc-yz").route()).isEqualTo("abc*");
    assertThat(b.forRoute("xyz").route()).isEqualTo("*yz");
    assertThat(b.forRoute("other").route()).isEqualTo("*");
  }

  @Test
  void disabledAtTheTopWithoutRoutesIsOffEverywhere() throws Exception {
    create("""
        plugins:
          recorder:
            enabled: false
            tag: base
            routes: {}
        """);

    assertThat(created.bindings()).isEmpty();
    assertThat(created.filters()).isEmpty();
    assertThat(recorded()).isEmpty();
  }

  // ---- what each route's filter is made with ----

  @Test
  void aRoutesSettingsAreMergedOverTheDefaultsObjectsKeyByKeyScalarsAndListsReplaced() throws Exception {
    create("""
        plugins:
          recorder:
            tag: base
            mode: strict
            limits: { rpm: 10, burst: 5, window: { size: 60, unit: s } }
            tags: [a, b]
            routes:
              docs:
                limits: { rpm: 99, window: { size: 1 } }
                tags: [c]
                extra: yes-please
              flat:
                limits: none
                mode: { level: 2 }
        """);

    List<Object[]> calls = recorded();
    assertThat(calls).extracting(c -> c[0]).containsExactly(null, "docs", "flat");
    assertThat(calls.get(0)[1]).isEqualTo(Map.of("tag", "base", "mode", "strict",
        "limits", Map.of("rpm", 10, "burst", 5, "window", Map.of("size", 60, "unit", "s")), "tags", List.of("a", "b")));
    assertThat(calls.get(1)[1]).isEqualTo(Map.of("tag", "base", "mode", "strict",
        "limits", Map.of("rpm", 99, "burst", 5, "window", Map.of("size", 1, "unit", "s")), "tags", List.of("c"),
        "extra", "yes-please"));
    assertThat(calls.get(2)[1]).isEqualTo(Map.of("tag", "base", "mode", Map.of("level", 2), "limits", "none",
        "tags", List.of("a", "b")));
  }

  @Test
  void routesWhoseSettingsEndUpEqualShareOneFilter() throws Exception {
    create("""
        plugins:
          recorder:
            mode: strict
            limits: { rpm: 10 }
            routes:
              same-as-default: { mode: strict, limits: { rpm: 10 } }
              loose-1: { mode: loose }
              loose-2: { mode: loose }
              "loose-*": { mode: loose }
              docs: { limits: { rpm: 99 } }
        """);
    PluginBinding b = binding("recorder");

    // The default, loose-1 (for loose-2 and loose-* too) and docs: three creates, three filters.
    assertThat(recorded()).extracting(c -> c[0]).containsExactly(null, "loose-1", "docs");
    assertThat(created.filters()).hasSize(3);
    assertThat(b.forRoute("same-as-default")).isSameAs(b.forRoute("unlisted"));
    assertThat(b.forRoute("loose-2")).isSameAs(b.forRoute("loose-1")).isSameAs(b.forRoute("loose-anything"));
    assertThat(b.forRoute("docs")).isNotSameAs(b.forRoute("loose-1")).isNotSameAs(b.forRoute("unlisted"));
  }

  @Test
  void theHostKeysEnabledAndRoutesAreNeverPartOfAPluginsSettings() throws Exception {
    create("""
        plugins:
          recorder:
            enabled: true
            tag: base
            routes:
              docs: { enabled: true, tag: d }
          bound:
            enabled: "true"
            tag: base
            limits: { rpm: 1 }
            routes:
              docs: { enabled: true, limits: { burst: 2 } }
        """);

    assertThat(recorded()).extracting(c -> c[1]).containsExactly(Map.of("tag", "base"), Map.of("tag", "d"));
    assertThat(this.<List<String>>staticField("bound", "bound")).containsExactly(
        "Settings[tag=base, limits=Limits[rpm=1, burst=null]]",
        "Settings[tag=base, limits=Limits[rpm=1, burst=2]]");
  }

  @Test
  void theConfigurationSaysWhichRouteKeyItIsForAndItsKeyPath() throws Exception {
    create("""
        plugins:
          recorder:
            tag: base
            routes:
              "api-*": { tag: p }
        """);

    assertThat(recorded()).extracting(c -> c[0], c -> c[2]).containsExactly(
        org.assertj.core.groups.Tuple.tuple(null, "plugins.recorder"),
        org.assertj.core.groups.Tuple.tuple("api-*", "plugins.recorder.routes.api-*"));
    assertThat(created.filters()).extracting(ActiveFilter::route).containsExactly(null, "api-*");
  }

  @Test
  void aBadValueInARoutesSettingsNamesTheRoutesKeyPath() {
    assertThatThrownBy(() -> create("""
        plugins:
          bound:
            tag: base
            routes:
              docs: { limits: { rmp: 5 } }
        """))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("plugins.bound.routes.docs.limits.rmp")
        .hasMessageContaining("unknown key");
  }

  @Test
  void aPluginsRefusalOfARoutesSettingsNamesTheRoutesKeyPath() {
    assertThatThrownBy(() -> create("""
        plugins:
          picky:
            routes:
              "docs-*": { bad: true }
        """))
        .isInstanceOf(ConfigException.class)
        .hasMessage("plugins.picky.routes.docs-*: bad is not allowed here");
  }

  @Test
  void filtersMadeBeforeARoutesRefusalAreClosed() throws Exception {
    Map<String, JsonNode> section = new ConfigLoader(Map.<String, String>of()::get, Path.of("/unused")).fromText("""
        plugins:
          recorder:
            tag: base
            routes:
              docs: { tag: d }
          picky:
            routes:
              docs: { bad: true }
        """, null).config().plugins();

    assertThatThrownBy(() -> factory.create(section, dataDir, NO_ROUTES, "/peer/"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("plugins.picky.routes.docs");
    assertThat(recorded()).hasSize(2);
    assertThat(this.<java.util.concurrent.atomic.AtomicInteger>staticField("recorder", "closed")).hasValue(2);
  }

  // ---- through a real gateway ----

  @Test
  void eachRequestRunsTheFilterOfItsRoute() throws Exception {
    try (TestBackend backend = new TestBackend()) {
      backend.route("/", ex -> TestBackend.respond(ex, 200, "text/plain",
          "tag=" + ex.getRequestHeaders().getFirst("X-Tag")));
      String upstreams = "upstreams:\n" + List.of("docs", "hooks", "api-v1", "api-v2", "other").stream()
          .map(n -> "  " + n + ": \"" + backend.url() + "\"\n").reduce("", String::concat);
      String server = "  plugins_dir: \"" + plugins + "\"\n  data_dir: \"" + dataDir + "\"\n";

      try (TestGateway g = TestGateway.start("jdk", server + upstreams + """
          plugins:
            recorder:
              tag: base
              routes:
                docs: { tag: d }
                "api-*": { tag: p }
                hooks: { enabled: false }
          """)) {
        assertThat(g.get("/peer/docs/x").body()).isEqualTo("tag=d");
        assertThat(g.get("/peer/api-v1/x").body()).isEqualTo("tag=p");
        assertThat(g.get("/peer/api-v2/x").body()).isEqualTo("tag=p");
        assertThat(g.get("/peer/hooks/x").body()).isEqualTo("tag=null");
        assertThat(g.get("/peer/other/x").body()).isEqualTo("tag=base");
      }

      try (TestGateway g = TestGateway.start("jdk", server + upstreams + """
          plugins:
            recorder:
              enabled: false
              tag: base
              routes:
                "api-*": {}
          """)) {
        assertThat(g.get("/peer/api-v2/x").body()).isEqualTo("tag=base");
        assertThat(g.get("/peer/docs/x").body()).isEqualTo("tag=null");
        assertThat(g.get("/peer/other/x").body()).isEqualTo("tag=null");
      }
    }
  }
}
