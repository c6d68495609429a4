package dev.portalgateway.host.plugin;

import dev.portalgateway.api.GatewayPlugin;
import dev.portalgateway.api.Phase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds real plugin jars for tests: compiles Java sources against the test class path (so that
 * {@code dev.portalgateway.api} resolves) and packs the classes into a jar with a
 * {@code META-INF/services/dev.portalgateway.api.GatewayPlugin} file.
 *
 * <pre>{@code
 * Path jar = TestPluginJars.build(pluginsDir, "hello.jar", "test.hello.HelloPlugin",
 *     TestPluginJars.pluginSource("test.hello.HelloPlugin", "hello", Phase.DELIVER, "return (r, c) -> c.proceed(r);"));
 * }</pre>
 */
public final class TestPluginJars {
  /** Where a jar lists its plugins. */
  public static final String SERVICE_FILE = "META-INF/services/" + GatewayPlugin.class.getName();

  private TestPluginJars() {}

  /**
   * Builds a jar holding one plugin class (and any classes nested in it) that lists it as a plugin.
   *
   * @param dir where the jar goes; sources and classes are built under its hidden {@code .build} folder
   * @param jarName the jar's file name, such as {@code auth.jar}
   * @param className the plugin's fully qualified class name
   * @param javaSource the class's source
   * @return the jar
   */
  public static Path build(Path dir, String jarName, String className, String javaSource) throws IOException {
    return build(dir, jarName, Map.of(className, javaSource), className + "\n");
  }

  /**
   * Builds a jar from several classes with the given service file.
   *
   * @param dir where the jar goes
   * @param jarName the jar's file name
   * @param sources fully qualified class name to source
   * @param serviceFile the content of the service file, one class name a line; {@code null} for none
   * @return the jar
   */
  public static Path build(Path dir, String jarName, Map<String, String> sources, String serviceFile)
      throws IOException {
    // Built under a hidden folder of dir: the catalog only reads *.jar files, so it is ignored there.
    Path work = Files.createTempDirectory(Files.createDirectories(dir.resolve(".build")),
        jarName.replaceAll("[^A-Za-z0-9-]", "_") + "-");
    Path classes = compile(work, sources);
    Map<String, byte[]> extra = new LinkedHashMap<>();
    if (serviceFile != null) {
      extra.put(SERVICE_FILE, serviceFile.getBytes(StandardCharsets.UTF_8));
    }
    Files.createDirectories(dir);
    return jar(dir.resolve(jarName), classes, extra);
  }

  /**
   * Compiles sources against the test class path.
   *
   * @param work a folder to write sources and classes under
   * @param sources fully qualified class name to source
   * @return the folder of compiled classes
   * @throws IllegalStateException with the compiler's messages when compilation fails
   */
  public static Path compile(Path work, Map<String, String> sources) throws IOException {
    Path src = Files.createDirectories(work.resolve("src"));
    Path classes = Files.createDirectories(work.resolve("classes"));
    List<String> files = new ArrayList<>();
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path file = src.resolve(e.getKey().replace('.', '/') + ".java");
      Files.createDirectories(file.getParent());
      Files.writeString(file, e.getValue());
      files.add(file.toString());
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new IllegalStateException("tests that build plugin jars need a JDK, not a JRE");
    }
    List<String> args = new ArrayList<>(List.of(
        "--release", "21", "-proc:none", "-nowarn", "-encoding", "UTF-8",
        "-classpath", System.getProperty("java.class.path"),
        "-d", classes.toString()));
    args.addAll(files);
    ByteArrayOutputStream messages = new ByteArrayOutputStream();
    int status = javac.run(null, messages, messages, args.toArray(String[]::new));
    if (status != 0) {
      throw new IllegalStateException("test plugin does not compile:\n" + messages.toString(StandardCharsets.UTF_8));
    }
    return classes;
  }

  /**
   * Packs a folder of classes into a jar.
   *
   * @param jarFile the jar to write
   * @param classes the folder of compiled classes
   * @param extraEntries more entries by path, such as a service file
   * @return {@code jarFile}
   */
  public static Path jar(Path jarFile, Path classes, Map<String, byte[]> extraEntries) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jarFile), manifest);
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
      for (Map.Entry<String, byte[]> e : extraEntries.entrySet()) {
        out.putNextEntry(new JarEntry(e.getKey()));
        out.write(e.getValue());
        out.closeEntry();
      }
    }
    return jarFile;
  }

  /**
   * The source of a simple plugin class.
   *
   * @param className fully qualified class name
   * @param pluginName what {@code name()} returns
   * @param phase what {@code phase()} returns
   * @param createBody the body of {@code create(PluginConfig config, PluginContext context)}, which
   *     may throw {@code InvalidConfigException}
   * @param members more members of the class, such as static fields or nested records
   * @return the source
   */
  public static String pluginSource(String className, String pluginName, Phase phase, String createBody,
      String members) {
    int dot = className.lastIndexOf('.');
    String pkg = dot < 0 ? "" : "package " + className.substring(0, dot) + ";\n\n";
    String simple = className.substring(dot + 1);
    return pkg + """
        import dev.portalgateway.api.*;

        public final class %s implements GatewayPlugin {
        %s

          @Override
          public String name() {
            return "%s";
          }

          @Override
          public Phase phase() {
            return Phase.%s;
          }

          @Override
          public Filter create(PluginConfig config, PluginContext context) throws InvalidConfigException {
            %s
          }
        }
        """.formatted(simple, members, pluginName, phase.name(), createBody);
  }

  /** The source of a plugin whose filter passes every request on. */
  public static String pluginSource(String className, String pluginName, Phase phase) {
    return pluginSource(className, pluginName, phase, "return (request, chain) -> chain.proceed(request);", "");
  }
}
