package dev.portalgateway.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portalgateway.api.Filter;
import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Phase;
import dev.portalgateway.host.config.ConfigException;
import dev.portalgateway.host.ops.JsonLog;
import io.prometheus.client.CollectorRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginCatalogTest {
  @TempDir Path plugins;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final List<PluginCatalog> loaded = new java.util.ArrayList<>();

  @BeforeEach
  void captureLog() {
    JsonLog.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreLogAndCloseLoaders() throws Exception {
    JsonLog.redirect(System.out);
    for (PluginCatalog c : loaded) {
      for (LoadedPlugin p : c.all()) {
        ((java.io.Closeable) p.loader()).close();
      }
    }
  }

  private PluginCatalog load() throws ConfigException {
    PluginCatalog catalog = PluginCatalog.load(plugins);
    loaded.add(catalog);
    return catalog;
  }

  private Path simplePlugin(String jarName, String className, String pluginName, Phase phase) throws Exception {
    return TestPluginJars.build(plugins, jarName, className, TestPluginJars.pluginSource(className, pluginName, phase));
  }

  private static Object staticField(LoadedPlugin plugin, String name) throws Exception {
    return plugin.plugin().getClass().getField(name).get(null);
  }

  @Test
  void aGoodJarLoadsAndReportsItsPluginsNameAndPhase() throws Exception {
    Path jar = simplePlugin("good.jar", "test.good.GoodPlugin", "good-one", Phase.LIMIT);

    PluginCatalog catalog = load();

    assertThat(catalog.directory()).isEqualTo(plugins);
    assertThat(catalog.all()).singleElement().satisfies(p -> {
      assertThat(p.name()).isEqualTo("good-one");
      assertThat(p.phase()).isEqualTo(Phase.LIMIT);
      assertThat(p.jar()).isEqualTo(jar);
      assertThat(p.plugin().getClass().getName()).isEqualTo("test.good.GoodPlugin");
      assertThat(p.plugin().getClass().getClassLoader()).isSameAs(p.loader());
    });
    assertThat(catalog.require("good-one").name()).isEqualTo("good-one");
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("good-one");
  }

  @Test
  void everyJarAndEveryPluginInAJarIsLoaded() throws Exception {
    simplePlugin("a.jar", "test.a.APlugin", "alpha", Phase.AUTHENTICATE);
    TestPluginJars.build(plugins, "b.jar",
        Map.of("test.b.BOne", TestPluginJars.pluginSource("test.b.BOne", "beta-one", Phase.CACHE),
            "test.b.BTwo", TestPluginJars.pluginSource("test.b.BTwo", "beta-two", Phase.DELIVER)),
        "# two plugins\ntest.b.BOne\n\ntest.b.BTwo\n");
    Files.writeString(plugins.resolve("README.txt"), "not a jar");

    PluginCatalog catalog = load();

    assertThat(catalog.all()).extracting(LoadedPlugin::name).containsExactly("alpha", "beta-one", "beta-two");
    assertThat(catalog.require("beta-one").loader()).isSameAs(catalog.require("beta-two").loader());
    assertThat(catalog.require("alpha").loader()).isNotSameAs(catalog.require("beta-one").loader());
  }

  @Test
  void twoJarsMayHoldClassesOfTheSameNameWithoutClashing() throws Exception {
    String name = "test.same.SamePlugin";
    TestPluginJars.build(plugins, "one.jar", name, TestPluginJars.pluginSource(name, "same-one", Phase.LIMIT));
    TestPluginJars.build(plugins, "two.jar", name, TestPluginJars.pluginSource(name, "same-two", Phase.LIMIT));

    PluginCatalog catalog = load();

    Class<?> one = catalog.require("same-one").plugin().getClass();
    Class<?> two = catalog.require("same-two").plugin().getClass();
    assertThat(one.getName()).isEqualTo(two.getName());
    assertThat(one).isNotSameAs(two);
  }

  @Test
  void twoJarsWithTheSamePluginNameAreRejectedNamingBoth() throws Exception {
    Path first = simplePlugin("first.jar", "test.dup.First", "dup", Phase.LIMIT);
    Path second = simplePlugin("second.jar", "test.dup.Second", "dup", Phase.CACHE);

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'dup'")
        .hasMessageContaining(first.toString())
        .hasMessageContaining(second.toString())
        .hasMessageContaining("remove one");
  }

  @Test
  void aCorruptJarIsRejectedNamingItAndTheFix() throws Exception {
    simplePlugin("good.jar", "test.good.GoodPlugin", "good-one", Phase.LIMIT);
    Files.write(plugins.resolve("x.jar"), "this is not a zip file".getBytes(StandardCharsets.UTF_8));

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(plugins.resolve("x.jar").toString())
        .hasMessageContaining("not a readable jar")
        .hasMessageContaining("fix or remove x.jar");
  }

  @Test
  void aTruncatedJarIsRejectedNamingIt() throws Exception {
    Path jar = simplePlugin("cut.jar", "test.cut.CutPlugin", "cut", Phase.LIMIT);
    byte[] bytes = Files.readAllBytes(jar);
    Files.write(jar, java.util.Arrays.copyOf(bytes, bytes.length / 2));

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cut.jar")
        .hasMessageContaining("fix or remove");
  }

  @Test
  void aServiceFileNamingAMissingClassIsRejectedNamingTheJar() throws Exception {
    TestPluginJars.build(plugins, "broken.jar",
        Map.of("test.broken.Real", TestPluginJars.pluginSource("test.broken.Real", "real", Phase.LIMIT)),
        "test.broken.Missing\n");

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(plugins.resolve("broken.jar").toString())
        .hasMessageContaining("test.broken.Missing")
        .hasMessageContaining("fix or remove broken.jar");
  }

  @Test
  void aJarWithoutServiceFileIsRejected() throws Exception {
    TestPluginJars.build(plugins, "plain.jar",
        Map.of("test.plain.Plain", TestPluginJars.pluginSource("test.plain.Plain", "plain", Phase.LIMIT)), null);

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(plugins.resolve("plain.jar").toString())
        .hasMessageContaining("lists no plugin")
        .hasMessageContaining(TestPluginJars.SERVICE_FILE);
  }

  @Test
  void aPluginWhoseConstructorFailsIsRejectedNamingTheJar() throws Exception {
    String cls = "test.ctor.Failing";
    TestPluginJars.build(plugins, "failing.jar", cls, TestPluginJars.pluginSource(cls, "failing", Phase.LIMIT,
        "return null;", "  public Failing() { throw new IllegalStateException(\"cannot start here\"); }"));

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("failing.jar")
        .hasMessageContaining("cannot start here");
  }

  @Test
  void anInvalidPluginNameIsRejected() throws Exception {
    simplePlugin("bad.jar", "test.bad.BadName", "Bad_Name", Phase.LIMIT);

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'Bad_Name'")
        .hasMessageContaining("bad.jar")
        .hasMessageContaining("lower-case");
  }

  @Test
  void aPluginWithoutPhaseIsRejected() throws Exception {
    String cls = "test.nophase.NoPhase";
    String source = TestPluginJars.pluginSource(cls, "no-phase", Phase.LIMIT)
        .replace("return Phase.LIMIT;", "return null;");
    TestPluginJars.build(plugins, "nophase.jar", cls, source);

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'no-phase'")
        .hasMessageContaining("no phase");
  }

  @Test
  void requireOfAnUnknownNameListsTheAvailableOnes() throws Exception {
    simplePlugin("a.jar", "test.a.APlugin", "alpha", Phase.LIMIT);
    simplePlugin("b.jar", "test.b.BPlugin", "beta", Phase.LIMIT);
    PluginCatalog catalog = load();

    assertThatThrownBy(() -> catalog.require("nope"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("plugins.nope:")
        .hasMessageContaining("alpha, beta")
        .hasMessageContaining(plugins.toString());
  }

  @Test
  void aMissingDirectoryIsAnEmptyCatalog() throws Exception {
    Path missing = plugins.resolve("does-not-exist");

    PluginCatalog catalog = PluginCatalog.load(missing);

    assertThat(catalog.all()).isEmpty();
    assertThat(catalog.directory()).isEqualTo(missing);
    assertThatThrownBy(() -> catalog.require("auth"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("none");
  }

  @Test
  void anEmptyDirectoryIsAnEmptyCatalog() throws Exception {
    assertThat(load().all()).isEmpty();
  }

  @Test
  void aPluginCannotSeeTheHostsLibrariesOutsideThePlatformLayer() throws Exception {
    simplePlugin("iso.jar", "test.iso.IsoPlugin", "iso", Phase.LIMIT);
    ClassLoader loader = load().require("iso").loader();

    // The host has Prometheus and its own classes on its class path; the plugin must bring its own.
    assertThat(Class.forName("io.prometheus.client.CollectorRegistry")).isNotNull();
    assertThatThrownBy(() -> Class.forName("io.prometheus.client.CollectorRegistry", false, loader))
        .isInstanceOf(ClassNotFoundException.class);
    assertThatThrownBy(() -> loader.loadClass(PluginCatalog.class.getName()))
        .isInstanceOf(ClassNotFoundException.class);
    assertThat(loader.getResource("io/prometheus/client/CollectorRegistry.class")).isNull();
  }

  @Test
  void aPluginSharesThePlatformLayerWithTheHost() throws Exception {
    simplePlugin("iso.jar", "test.iso.IsoPlugin", "iso", Phase.LIMIT);
    ClassLoader loader = load().require("iso").loader();

    // One copy of Jackson (with YAML) and Caffeine: the binder reads the plugin's annotations.
    for (Class<?> shared : List.of(com.fasterxml.jackson.databind.ObjectMapper.class,
        com.fasterxml.jackson.annotation.JsonProperty.class, com.fasterxml.jackson.dataformat.yaml.YAMLFactory.class,
        org.yaml.snakeyaml.Yaml.class, com.github.benmanes.caffeine.cache.Caffeine.class)) {
      assertThat(loader.loadClass(shared.getName())).isSameAs(shared);
    }
    assertThat(loader.getResource("com/fasterxml/jackson/databind/ObjectMapper.class")).isNotNull();
  }

  @Test
  void aPluginSharesTheHostsApiClasses() throws Exception {
    simplePlugin("iso.jar", "test.iso.IsoPlugin", "iso", Phase.LIMIT);
    LoadedPlugin plugin = load().require("iso");
    ClassLoader loader = plugin.loader();

    assertThat(loader.loadClass("dev.portalgateway.api.Filter")).isSameAs(Filter.class);
    assertThat(loader.loadClass("dev.portalgateway.api.GatewayPlugin")).isSameAs(GatewayPlugin.class);
    assertThat(plugin.plugin()).isInstanceOf(GatewayPlugin.class);
    // And the JDK.
    assertThat(loader.loadClass("java.net.http.HttpClient")).isSameAs(java.net.http.HttpClient.class);
  }

  @Test
  void thePluginsOwnLoaderIsTheContextClassLoaderWhileItIsLoadedAndCreated() throws Exception {
    String cls = "test.tccl.TcclPlugin";
    TestPluginJars.build(plugins, "tccl.jar", cls, TestPluginJars.pluginSource(cls, "tccl", Phase.LIMIT, """
            createSawOwnLoader = Thread.currentThread().getContextClassLoader() == getClass().getClassLoader();
            return (request, chain) -> chain.proceed(request);
        """, """
          public static volatile Boolean constructorSawOwnLoader;
          public static volatile Boolean createSawOwnLoader;

          public TcclPlugin() {
            constructorSawOwnLoader = Thread.currentThread().getContextClassLoader() == getClass().getClassLoader();
          }
        """));
    ClassLoader before = Thread.currentThread().getContextClassLoader();
    PluginCatalog catalog = load();
    LoadedPlugin plugin = catalog.require("tccl");
    assertThat(staticField(plugin, "constructorSawOwnLoader")).isEqualTo(true);
    assertThat(staticField(plugin, "createSawOwnLoader")).isNull();

    List<ActiveFilter> filters = new FilterFactory(catalog, new CollectorRegistry(), Clock.systemUTC())
        .create(Map.of("tccl", com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()), plugins,
            request -> {
              throw new IllegalStateException("no routes in this test");
            }, "/peer/").filters();
    try {
      assertThat(staticField(plugin, "createSawOwnLoader")).isEqualTo(true);
      assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(before);
    } finally {
      filters.forEach(ActiveFilter::close);
    }
  }

  // ---- API version ----

  /** A plugin jar whose plugin declares {@code apiVersion} (a Java expression), or keeps the default when null. */
  private Path versionedPlugin(String jarName, String className, String pluginName, String apiVersion)
      throws Exception {
    String members = apiVersion == null ? ""
        : "  @Override\n  public String apiVersion() {\n    return " + apiVersion + ";\n  }\n";
    return TestPluginJars.build(plugins, jarName, className, TestPluginJars.pluginSource(className, pluginName,
        Phase.LIMIT, "return (request, chain) -> chain.proceed(request);", members));
  }

  @Test
  void aPluginBuiltAgainstANewerMinorVersionIsRefusedNamingItsJarAndBothVersions() throws Exception {
    Path jar = versionedPlugin("future.jar", "test.version.Future", "future", "\"0.99\"");

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'future'")
        .hasMessageContaining("future.jar")
        .hasMessageContaining(jar.getParent().toString())
        .hasMessageContaining("0.99")
        .hasMessageContaining("gateway-api " + dev.portalgateway.api.GatewayApi.VERSION);
  }

  @Test
  void aPluginBuiltAgainstAnotherMajorVersionIsRefusedNamingItsJarAndBothVersions() throws Exception {
    versionedPlugin("next.jar", "test.version.Next", "next-major", "\"1.0\"");

    assertThatThrownBy(() -> PluginCatalog.load(plugins))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'next-major'")
        .hasMessageContaining("next.jar")
        .hasMessageContaining("1.0")
        .hasMessageContaining("gateway-api " + dev.portalgateway.api.GatewayApi.VERSION);
  }

  @Test
  void aPluginBuiltAgainstThisOrAnOlderMinorVersionOrDeclaringNoneLoads() throws Exception {
    versionedPlugin("current.jar", "test.version.Current", "current", "GatewayApi.VERSION");
    versionedPlugin("old.jar", "test.version.Old", "old", "\"0.1\"");
    versionedPlugin("padded.jar", "test.version.Padded", "padded", "\" 0.1 \"");
    versionedPlugin("legacy.jar", "test.version.Legacy", "legacy", null);

    PluginCatalog catalog = load();

    assertThat(catalog.all()).extracting(LoadedPlugin::name).containsExactly("current", "legacy", "old", "padded");
    assertThat(catalog.require("legacy").plugin().apiVersion()).isEqualTo("0.1");
    assertThat(catalog.require("current").plugin().apiVersion()).isEqualTo(dev.portalgateway.api.GatewayApi.VERSION);
  }

  @Test
  void aMalformedVersionIsRefused() throws Exception {
    String[][] cases = {{"\"x\"", "x"}, {"\"1\"", "1"}, {"\"0.2.1\"", "0.2.1"}, {"\"\"", ""}, {"null", "null"}};
    for (int i = 0; i < cases.length; i++) {
      // One jar at a time, each under its own name.
      Path jar = versionedPlugin("odd-" + i + ".jar", "test.version.Odd" + i, "odd", cases[i][0]);

      assertThatThrownBy(() -> PluginCatalog.load(plugins)).as(cases[i][0])
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("'odd'")
          .hasMessageContaining("odd-" + i + ".jar")
          .hasMessageContaining("declares the API version '" + cases[i][1] + "'")
          .hasMessageContaining("MAJOR.MINOR");
      Files.delete(jar);
    }
  }
}
