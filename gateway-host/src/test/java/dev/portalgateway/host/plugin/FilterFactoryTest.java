package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.config.ConfigLoader;
import dev.portalgateway.host.ops.JsonLog;
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
 * Builds one jar of test plugins once; each test loads a fresh catalog from it, so every test
 * gets new class loaders and so fresh static counters in the plugin classes.
 */
class FilterFactoryTest {
  /** These tests never send anything: a connector that says so if asked. */
  private static final dev.portalgateway.api.Connector NO_ROUTES = request -> {
    throw new IllegalStateException("no routes in this test");
  };

  @TempDir static Path plugins;
  @TempDir Path dataDir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private PluginCatalog catalog;
  private FilterFactory factory;

  /** Counts filters created and closed, for every test plugin of the jar. */
  private static final String COUNTER = """
      package test.chain;

      public final class Counter {
        public static final java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
        public static final java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        public static final java.util.List<String> closedNames = new java.util.concurrent.CopyOnWriteArrayList<>();

        public static dev.portalgateway.api.Filter filter(String name) {
          created.incrementAndGet();
          return new dev.portalgateway.api.Filter() {
            @Override
            public dev.portalgateway.api.Response handle(dev.portalgateway.api.Request request, dev.portalgateway.api.Chain chain)
                throws java.io.IOException {
              return chain.proceed(request);
            }

            @Override
            public void close() {
              closed.incrementAndGet();
              closedNames.add(name);
            }
          };
        }
      }
      """;

  private static String counted(String simpleName, String pluginName, Phase phase) {
    return TestPluginJars.pluginSource("test.chain." + simpleName, pluginName, phase,
        "return Counter.filter(\"" + pluginName + "\");", "");
  }

  @BeforeAll
  static void buildPluginJar() throws Exception {
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put("test.chain.Counter", COUNTER);
    sources.put("test.chain.Auth", counted("Auth", "auth", Phase.AUTHENTICATE));
    sources.put("test.chain.Acl", counted("Acl", "acl", Phase.AUTHORIZE));
    sources.put("test.chain.ZetaLimit", counted("ZetaLimit", "zeta-limit", Phase.LIMIT));
    sources.put("test.chain.AlphaLimit", counted("AlphaLimit", "alpha-limit", Phase.LIMIT));
    sources.put("test.chain.Cache", counted("Cache", "cache", Phase.CACHE));
    sources.put("test.chain.Retry", counted("Retry", "retry", Phase.DELIVER));
    sources.put("test.chain.Refuses", TestPluginJars.pluginSource("test.chain.Refuses", "refuses", Phase.LIMIT,
        "throw new InvalidConfigException(\"set keys_file to the file of API keys\");", ""));
    sources.put("test.chain.RefusesWithPath", TestPluginJars.pluginSource("test.chain.RefusesWithPath",
        "refuses-with-path", Phase.LIMIT,
        "throw new InvalidConfigException(config.path() + \".keys_file: no such file\");", ""));
    sources.put("test.chain.Crashes", TestPluginJars.pluginSource("test.chain.Crashes", "crashes", Phase.DELIVER,
        "throw new IllegalStateException(\"kaboom\");", ""));
    sources.put("test.chain.Nothing", TestPluginJars.pluginSource("test.chain.Nothing", "nothing", Phase.DELIVER,
        "return null;", ""));
    sources.put("test.chain.Typed", TestPluginJars.pluginSource("test.chain.Typed", "typed", Phase.CACHE, """
            Settings s = config.bind(Settings.class);
            bound = s.toString();
            return Counter.filter("typed");
        """, """
          public record Settings(String keysFile, java.time.Duration reloadInterval, Long maxBytes,
              java.util.List<String> publicLeases) {}

          public static volatile String bound;
        """));
    sources.put("test.chain.Primitives", TestPluginJars.pluginSource("test.chain.Primitives", "primitives",
        Phase.CACHE, """
            Settings s = config.bind(Settings.class);
            bound = s.toString();
            return Counter.filter("primitives");
        """, """
          public record Settings(int count, long maxBytes, boolean strict, String name) {}

          public static volatile String bound;
        """));
    String services = String.join("\n", sources.keySet().stream().filter(n -> !n.endsWith("Counter")).toList());
    TestPluginJars.build(plugins, "chain.jar", sources, services + "\n");
  }

  @BeforeEach
  void loadCatalog() throws Exception {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
    catalog = PluginCatalog.load(plugins);
    factory = new FilterFactory(catalog, new CollectorRegistry(), Clock.systemUTC());
  }

  @AfterEach
  void restoreLogAndCloseLoaders() throws Exception {
    JsonLog.redirect(System.out);
    for (LoadedPlugin p : catalog.all()) {
      ((java.io.Closeable) p.loader()).close();
    }
  }

  private static Map<String, JsonNode> pluginsSection(String yaml) throws ConfigException {
    return new ConfigLoader(Map.<String, String>of()::get, Path.of("/unused")).fromText(yaml, null).config().plugins();
  }

  private Object counter(String field) throws Exception {
    Object value = catalog.require("auth").loader().loadClass("test.chain.Counter").getField(field).get(null);
    return value instanceof java.util.concurrent.atomic.AtomicInteger i ? i.get() : value;
  }

  private Object staticField(String plugin, String field) throws Exception {
    return catalog.require(plugin).plugin().getClass().getField(field).get(null);
  }

  private static void closeAll(List<ActiveFilter> filters) {
    filters.forEach(ActiveFilter::close);
  }

  @Test
  void filtersAreOrderedByPhaseThenNameWhateverTheYamlOrder() throws Exception {
    Map<String, JsonNode> section = pluginsSection("""
        plugins:
          retry: {}
          zeta-limit: {}
          cache: {}
          auth: {}
          alpha-limit: {}
          acl:
        """);

    List<ActiveFilter> filters = factory.create(section, dataDir, NO_ROUTES, "/peer/").filters();
    try {
      assertThat(filters).extracting(ActiveFilter::name)
          .containsExactly("auth", "acl", "alpha-limit", "zeta-limit", "cache", "retry");
      assertThat(filters).extracting(ActiveFilter::phase).containsExactly(
          Phase.AUTHENTICATE, Phase.AUTHORIZE, Phase.LIMIT, Phase.LIMIT, Phase.CACHE, Phase.DELIVER);
      assertThat(counter("created")).isEqualTo(6);
    } finally {
      closeAll(filters);
    }
    assertThat(counter("closed")).isEqualTo(6);
  }

  @Test
  void theResultIsUnmodifiable() throws Exception {
    List<ActiveFilter> filters = factory.create(pluginsSection("plugins:\n  auth: {}\n"), dataDir, NO_ROUTES, "/peer/").filters();
    try {
      assertThatThrownBy(() -> filters.add(filters.get(0))).isInstanceOf(UnsupportedOperationException.class);
    } finally {
      closeAll(filters);
    }
  }

  @Test
  void noPluginsMeansNoFilters() throws Exception {
    assertThat(factory.create(pluginsSection(""), dataDir, NO_ROUTES, "/peer/").filters()).isEmpty();
  }

  @Test
  void aDisabledPluginIsSkipped() throws Exception {
    Map<String, JsonNode> section = pluginsSection("""
        plugins:
          auth: { enabled: false }
          cache: { enabled: true }
          crashes:
            enabled: false
        """);

    List<ActiveFilter> filters = factory.create(section, dataDir, NO_ROUTES, "/peer/").filters();
    try {
      assertThat(filters).extracting(ActiveFilter::name).containsExactly("cache");
      assertThat(counter("created")).isEqualTo(1);
    } finally {
      closeAll(filters);
    }
  }

  @Test
  void anInvalidConfigExceptionNamesThePluginsKeyPath() throws Exception {
    assertThatThrownBy(() -> factory.create(pluginsSection("plugins:\n  refuses: {}\n"), dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessage("plugins.refuses: set keys_file to the file of API keys");
  }

  @Test
  void aMessageThatAlreadyNamesItsKeyPathIsNotPrefixedTwice() throws Exception {
    assertThatThrownBy(() -> factory.create(pluginsSection("plugins:\n  refuses-with-path: {}\n"), dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessage("plugins.refuses-with-path.keys_file: no such file");
  }

  @Test
  void aCrashingPluginIsReportedWithItsJar() throws Exception {
    assertThatThrownBy(() -> factory.create(pluginsSection("plugins:\n  crashes: {}\n"), dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'crashes'")
        .hasMessageContaining("chain.jar")
        .hasMessageContaining("kaboom");
  }

  @Test
  void aPluginThatCreatesNoFilterIsRejected() throws Exception {
    assertThatThrownBy(() -> factory.create(pluginsSection("plugins:\n  nothing: {}\n"), dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'nothing'")
        .hasMessageContaining("no filter");
  }

  @Test
  void anUnknownPluginNameListsTheAvailableOnes() throws Exception {
    assertThatThrownBy(() -> factory.create(pluginsSection("plugins:\n  auht: {}\n"), dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("plugins.auht:")
        .hasMessageContaining("auth")
        .hasMessageContaining("alpha-limit");
  }

  @Test
  void aPluginBindsItsSettingsWithTheGatewaysRules() throws Exception {
    Map<String, JsonNode> section = pluginsSection("""
        plugins:
          typed:
            enabled: true
            keys_file: /etc/keys.txt
            reload_interval: 30s
            max_bytes: 64KiB
            public_leases: [docs, status]
        """);

    List<ActiveFilter> filters = factory.create(section, dataDir, NO_ROUTES, "/peer/").filters();
    try {
      assertThat(staticField("typed", "bound")).isEqualTo(
          "Settings[keysFile=/etc/keys.txt, reloadInterval=PT30S, maxBytes=65536, publicLeases=[docs, status]]");
    } finally {
      closeAll(filters);
    }
  }

  @Test
  void anUnknownKeyInAPluginsSettingsNamesItsKeyPath() throws Exception {
    Map<String, JsonNode> section = pluginsSection("plugins:\n  typed:\n    kesy_file: /etc/keys.txt\n");

    assertThatThrownBy(() -> factory.create(section, dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("plugins.typed")
        .hasMessageContaining("plugins.typed.kesy_file")
        .hasMessageContaining("keys_file")
        .hasMessageContaining("reload_interval");
  }

  @Test
  void aBadValueInAPluginsSettingsNamesItsKeyPath() throws Exception {
    Map<String, JsonNode> section = pluginsSection("plugins:\n  typed:\n    reload_interval: 5 parsecs\n");

    assertThatThrownBy(() -> factory.create(section, dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("plugins.typed.reload_interval")
        .hasMessageContaining("5 parsecs");
  }

  @Test
  void missingSettingsBindAsNulls() throws Exception {
    List<ActiveFilter> filters = factory.create(pluginsSection("plugins:\n  typed:\n"), dataDir, NO_ROUTES, "/peer/").filters();
    try {
      assertThat(staticField("typed", "bound"))
          .isEqualTo("Settings[keysFile=null, reloadInterval=null, maxBytes=null, publicLeases=null]");
    } finally {
      closeAll(filters);
    }
  }

  @Test
  void missingPrimitiveSettingsBindAsZeroAndFalse() throws Exception {
    List<ActiveFilter> filters = factory.create(pluginsSection("plugins:\n  primitives: {}\n"), dataDir, NO_ROUTES, "/peer/").filters();
    try {
      assertThat(staticField("primitives", "bound"))
          .isEqualTo("Settings[count=0, maxBytes=0, strict=false, name=null]");
    } finally {
      closeAll(filters);
    }
  }

  @Test
  void filtersCreatedBeforeAFailureAreClosed() throws Exception {
    // Created in YAML order: auth and cache succeed, then refuses fails.
    Map<String, JsonNode> section = pluginsSection("""
        plugins:
          auth: {}
          cache: {}
          refuses: {}
          retry: {}
        """);

    assertThatThrownBy(() -> factory.create(section, dataDir, NO_ROUTES, "/peer/").filters())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("plugins.refuses");
    assertThat(counter("created")).isEqualTo(2);
    assertThat(counter("closed")).isEqualTo(2);
    assertThat(counter("closedNames")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
        .containsExactlyInAnyOrder("auth", "cache");
  }

  @Test
  void filtersCreatedBeforeAnUnknownPluginAreClosed() throws Exception {
    Map<String, JsonNode> section = pluginsSection("plugins:\n  auth: {}\n  no-such-plugin: {}\n");

    assertThatThrownBy(() -> factory.create(section, dataDir, NO_ROUTES, "/peer/").filters()).isInstanceOf(ConfigException.class);
    assertThat(counter("created")).isEqualTo(1);
    assertThat(counter("closed")).isEqualTo(1);
  }

  @Test
  void filtersCreatedBeforeACrashAreClosed() throws Exception {
    Map<String, JsonNode> section = pluginsSection("plugins:\n  acl: {}\n  crashes: {}\n");

    assertThatThrownBy(() -> factory.create(section, dataDir, NO_ROUTES, "/peer/").filters()).isInstanceOf(ConfigException.class);
    assertThat(counter("closed")).isEqualTo(1);
  }
}
