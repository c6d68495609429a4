package dev.portalgateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.portalgateway.host.testing.TestBackend;
import dev.portalgateway.portal.relay.DevRelay;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/kubernetes/}: every manifest read by fabric8's typed Kubernetes model with no field
 * left over (a misspelt or misplaced key fails), rendered by {@code kubectl kustomize} where kubectl
 * is installed, checked for what docs/kubernetes.md promises (probes on the admin port, a grace
 * period longer than the preStop pause and the drain, a read-only root file system with the
 * gateway's writable directories on volumes, selectors that match), and the ConfigMap's
 * configuration served by the built jar with a key made by the documented key command.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KubernetesManifestsTest {
  static final Path KUBERNETES = Path.of("../deploy/kubernetes").toAbsolutePath().normalize();
  private static final ObjectMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final KubernetesSerialization KUBE = new KubernetesSerialization();
  private static final String APP = "portal-gateway";

  @TempDir
  Path dir;

  // ---- reading manifests strictly

  /** Every document of a YAML stream, as fabric8's typed objects, each checked for unknown fields. */
  static List<HasMetadata> parse(String yaml, String where) throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    try (var parser = new YAMLFactory().createParser(yaml)) {
      var documents = YAML.readValues(parser, JsonNode.class);
      while (documents.hasNext()) {
        JsonNode document = documents.next();
        if (document == null || document.isNull() || document.isEmpty()) {
          continue;
        }
        String kind = document.path("apiVersion").asText() + " " + document.path("kind").asText();
        HasMetadata object = KUBE.unmarshal(JSON.writeValueAsString(document));
        assertThat(object).as("%s: %s is a kind that fabric8's model knows", where, kind)
            .isNotInstanceOf(GenericKubernetesResource.class);
        List<String> unknown = new ArrayList<>();
        leftOver(object, kind + " " + object.getMetadata().getName(), unknown);
        assertThat(unknown).as("%s: fields the Kubernetes schema does not have", where).isEmpty();
        objects.add(object);
      }
    }
    return objects;
  }

  /**
   * Collects every field that fabric8 could not bind to the schema: it keeps those in each
   * object's {@code additionalProperties} instead of failing.
   */
  static void leftOver(Object value, String path, List<String> unknown) {
    if (value == null) {
      return;
    }
    if (value instanceof Collection<?> list) {
      int i = 0;
      for (Object item : list) {
        leftOver(item, path + "[" + i++ + "]", unknown);
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> leftOver(v, path + "." + k, unknown));
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method m : value.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      Object child;
      try {
        child = m.invoke(value);
      } catch (ReflectiveOperationException | RuntimeException e) {
        continue; // a computed accessor, not a field
      }
      if (m.getName().equals("getAdditionalProperties")) {
        if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.keySet().forEach(k -> unknown.add(path + "." + k));
        }
      } else if (child != value) {
        String name = m.getName().substring(3);
        leftOver(child, path + "." + Character.toLowerCase(name.charAt(0)) + name.substring(1), unknown);
      }
    }
  }

  static List<HasMetadata> parseFile(Path file) throws IOException {
    return parse(Files.readString(file), KUBERNETES.relativize(file).toString());
  }

  /** What {@code kubectl apply -f deploy/kubernetes/} applies: its *.yaml files, not subfolders. */
  static List<HasMetadata> applyDashF(Path folder) throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path f : files.filter(p -> p.toString().matches(".*\\.(yaml|yml|json)")).sorted().toList()) {
        objects.addAll(parseFile(f));
      }
    }
    return objects;
  }

  static Optional<Path> kubectl() {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d, "kubectl");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** {@code kubectl kustomize DIR}: offline, it only renders. */
  static String kustomize(Path kubectl, Path folder) throws Exception {
    Process p = new ProcessBuilder(kubectl.toString(), "kustomize", folder.toString()).redirectErrorStream(false).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize %s: %s", folder, err).isZero();
    return out;
  }

  @SuppressWarnings("unchecked")
  static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(o -> (T) o).toList();
  }

  static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> kind) {
    List<T> found = all(objects, kind);
    assertThat(found).as(kind.getSimpleName()).hasSize(1);
    return found.getFirst();
  }

  static <T extends HasMetadata> T named(List<HasMetadata> objects, Class<T> kind, String name) {
    return all(objects, kind).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " named " + name));
  }

  // ---- the tests

  @Test
  void theStrictReadingRejectsAMisspeltField() throws Exception {
    // The check that the manifests below pass has to be able to fail: one letter off, one key misplaced.
    String deployment = Files.readString(KUBERNETES.resolve("deployment.yaml"));
    assertThat(deployment).contains("readOnlyRootFilesystem: true", "terminationGracePeriodSeconds:");
    for (String broken : List.of(
        deployment.replace("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true"),
        deployment.replace("terminationGracePeriodSeconds:", "terminationGracePeriod:"))) {
      List<String> unknown = new ArrayList<>();
      HasMetadata object = KUBE.unmarshal(JSON.writeValueAsString(YAML.readTree(broken)));
      leftOver(object, "Deployment", unknown);
      assertThat(unknown).hasSize(1);
    }
  }

  @Test
  void everyManifestIsAKubernetesObjectWithNoUnknownField() throws Exception {
    List<HasMetadata> core = applyDashF(KUBERNETES);
    assertThat(core.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList())
        .containsExactlyInAnyOrder("ConfigMap/portal-gateway-config", "Deployment/portal-gateway",
            "PodDisruptionBudget/portal-gateway", "Service/portal-gateway", "Service/portal-gateway-admin");
    List<HasMetadata> optional = applyDashF(KUBERNETES.resolve("optional"));
    assertThat(optional.stream().map(HasMetadata::getKind).toList())
        .containsExactlyInAnyOrder("HorizontalPodAutoscaler", "ServiceMonitor", "NetworkPolicy");
    List<HasMetadata> everything = new ArrayList<>(core);
    everything.addAll(optional);
    everything.add(secretFromKeysFile());
    checkTheDeploymentsPromises(everything);
  }

  @Test
  void kubectlKustomizeRendersTheSameObjectsAndTheDocumentedOptions() throws Exception {
    Optional<Path> kubectl = kubectl();
    assumeTrue(kubectl.isPresent(), "kubectl is not installed: kubectl kustomize not checked");

    List<HasMetadata> rendered = parse(kustomize(kubectl.get(), KUBERNETES), "kubectl kustomize deploy/kubernetes");
    assertThat(rendered.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList())
        .containsExactlyInAnyOrder("ConfigMap/portal-gateway-config", "Secret/portal-gateway-keys",
            "Deployment/portal-gateway", "PodDisruptionBudget/portal-gateway", "Service/portal-gateway",
            "Service/portal-gateway-admin");
    Secret secret = one(rendered, Secret.class);
    assertThat(new String(Base64.getMimeDecoder().decode(secret.getData().get("keys.yaml")), StandardCharsets.UTF_8))
        .isEqualTo(Files.readString(KUBERNETES.resolve("keys/keys.yaml")));
    // The objects kubectl apply -f would send are the ones kustomize renders.
    for (HasMetadata object : applyDashF(KUBERNETES)) {
      HasMetadata twin = named(rendered, object.getClass(), object.getMetadata().getName());
      assertThat(JSON.readTree(KUBE.asJson(twin))).isEqualTo(JSON.readTree(KUBE.asJson(object)));
    }

    // What docs/kubernetes.md tells to uncomment: a namespace, the optional objects, an image.
    Path copy = dir.resolve("kubernetes");
    copyTree(KUBERNETES, copy);
    String kustomization = Files.readString(copy.resolve("Kustomization"));
    String uncommented = kustomization.replaceAll("(?m)^# (namespace: )", "$1")
        .replaceAll("(?m)^  # (- optional/)", "  $1")
        .replaceAll("(?m)^# (images:|  - name: portal-gateway|    new)", "$1");
    assertThat(uncommented).isNotEqualTo(kustomization);
    Files.writeString(copy.resolve("Kustomization"), uncommented);
    List<HasMetadata> full = parse(kustomize(kubectl.get(), copy), "kubectl kustomize with the options");
    assertThat(full.stream().map(HasMetadata::getKind).toList())
        .contains("HorizontalPodAutoscaler", "ServiceMonitor", "NetworkPolicy").hasSize(9);
    assertThat(full).allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).isEqualTo("portal-gateway"));
    Container gateway = one(full, Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
    assertThat(gateway.getImage()).startsWith("registry.example.com/portal-gateway:");
    checkTheDeploymentsPromises(full);
  }

  private Secret secretFromKeysFile() throws IOException {
    // What the Kustomization's secretGenerator makes (kubectl renders it in the test above).
    Secret secret = new Secret();
    secret.setApiVersion("v1");
    secret.setKind("Secret");
    secret.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("portal-gateway-keys").build());
    secret.setData(Map.of("keys.yaml", Base64.getEncoder().encodeToString(
        Files.readAllBytes(KUBERNETES.resolve("keys/keys.yaml")))));
    String kustomization = Files.readString(KUBERNETES.resolve("Kustomization"));
    assertThat(kustomization).contains("- name: portal-gateway-keys", "keys.yaml=keys/keys.yaml",
        "disableNameSuffixHash: true");
    return secret;
  }

  /** What docs/kubernetes.md says about the objects, checked on one set of them. */
  private void checkTheDeploymentsPromises(List<HasMetadata> objects) throws IOException {
    Deployment deployment = one(objects, Deployment.class);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(podLabels).containsEntry("app.kubernetes.io/name", APP);
    assertThat(podLabels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container c = pod.getContainers().getFirst();
    assertThat(pod.getContainers()).hasSize(1);
    assertThat(c.getImage()).endsWith(":" + System.getProperty("project.version", "0.1.0-SNAPSHOT"));

    // The gateway's configuration, as the ConfigMap gives it.
    ConfigMap configMap = named(objects, ConfigMap.class, "portal-gateway-config");
    JsonNode config = YAML.readTree(configMap.getData().get("gateway.yaml"));
    JsonNode server = config.path("server");

    // Ports: the container's are the ones the configuration listens on, on the pod's address.
    int httpPort = containerPort(c, "http");
    int adminPort = containerPort(c, "admin");
    assertThat(server.path("listen").asText()).isEqualTo("0.0.0.0:" + httpPort);
    assertThat(server.path("admin_listen").asText()).isEqualTo("0.0.0.0:" + adminPort);

    // Probes: on the admin listener's /healthz and /readyz.
    assertThat(probe(c.getReadinessProbe(), c)).isEqualTo("/readyz:" + adminPort);
    assertThat(probe(c.getLivenessProbe(), c)).isEqualTo("/healthz:" + adminPort);
    assertThat(probe(c.getStartupProbe(), c)).isEqualTo("/healthz:" + adminPort);

    // Drain: the grace period covers the preStop pause, then server.shutdown_grace, with a margin.
    long preStop = c.getLifecycle().getPreStop().getSleep().getSeconds();
    long shutdownGrace = seconds(server.path("shutdown_grace").asText());
    assertThat(preStop).isBetween(1L, 30L);
    assertThat(shutdownGrace).isGreaterThanOrEqualTo(30);
    assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(preStop + shutdownGrace + 5);

    // Security context: not root, no privilege, no capability, a read-only root file system.
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(c.getResources().getLimits()).containsKey("memory");

    // Where the gateway writes: data_dir and the JVM's /tmp, each a writable emptyDir.
    String dataDir = server.path("data_dir").asText();
    assertThat(writableEmptyDir(pod, c, dataDir)).as("a writable emptyDir at data_dir %s", dataDir).isTrue();
    assertThat(writableEmptyDir(pod, c, "/tmp")).as("a writable emptyDir at /tmp").isTrue();
    assertThat(c.getVolumeMounts()).allSatisfy(m -> {
      if (!Boolean.TRUE.equals(m.getReadOnly())) {
        assertThat(volume(pod, m.getName()).getEmptyDir()).as("writable mount %s", m.getMountPath()).isNotNull();
      }
    });

    // The configuration and the keys: one projected, read-only directory, updated in place (no subPath).
    VolumeMount configMount = c.getVolumeMounts().stream().filter(m -> "/etc/portal-gateway".equals(m.getMountPath()))
        .findFirst().orElseThrow();
    assertThat(configMount.getReadOnly()).isTrue();
    assertThat(configMount.getSubPath()).isNull();
    List<VolumeProjection> sources = volume(pod, configMount.getName()).getProjected().getSources();
    VolumeProjection fromConfigMap = sources.stream().filter(s -> s.getConfigMap() != null).findFirst().orElseThrow();
    assertThat(fromConfigMap.getConfigMap().getName()).isEqualTo(configMap.getMetadata().getName());
    assertThat(fromConfigMap.getConfigMap().getItems()).extracting(KeyToPath::getKey, KeyToPath::getPath)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("gateway.yaml", "gateway.yaml"));
    VolumeProjection fromSecret = sources.stream().filter(s -> s.getSecret() != null).findFirst().orElseThrow();
    Secret secret = named(objects, Secret.class, fromSecret.getSecret().getName());
    KeyToPath keys = fromSecret.getSecret().getItems().getFirst();
    assertThat(secret.getData()).containsKey(keys.getKey());
    assertThat(keys.getMode()).isEqualTo(0440);
    assertThat(pod.getSecurityContext().getFsGroup()).isNotNull();
    assertThat(config.path("plugins").path("auth-apikey").path("keys_file").asText())
        .isEqualTo(configMount.getMountPath() + "/" + keys.getPath());

    // Services: the proxy port for clients, the admin port apart from it.
    Service proxy = named(objects, Service.class, "portal-gateway");
    Service admin = named(objects, Service.class, "portal-gateway-admin");
    for (Service s : List.of(proxy, admin)) {
      assertThat(podLabels).containsAllEntriesOf(s.getSpec().getSelector());
    }
    assertThat(proxy.getSpec().getPorts()).extracting(p -> containerPort(c, p.getTargetPort().getStrVal()))
        .containsExactly(httpPort);
    assertThat(admin.getSpec().getPorts()).extracting(p -> containerPort(c, p.getTargetPort().getStrVal()))
        .containsExactly(adminPort);

    PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class);
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    assertThat(deployment.getSpec().getReplicas()).isGreaterThan(pdb.getSpec().getMaxUnavailable().getIntVal());

    for (HorizontalPodAutoscaler hpa : all(objects, HorizontalPodAutoscaler.class)) {
      assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
      assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
      assertThat(hpa.getSpec().getMinReplicas()).isGreaterThan(pdb.getSpec().getMaxUnavailable().getIntVal());
      assertThat(c.getResources().getRequests()).containsKey("cpu"); // utilization is of the request
    }
    for (ServiceMonitor monitor : all(objects, ServiceMonitor.class)) {
      assertThat(monitor.getSpec().getSelector().getMatchLabels()).isNotEmpty();
      List<Service> selected = all(objects, Service.class).stream().filter(s -> s.getMetadata().getLabels().entrySet()
          .containsAll(monitor.getSpec().getSelector().getMatchLabels().entrySet())).toList();
      assertThat(selected).as("the ServiceMonitor selects the admin Service only").containsExactly(admin);
      assertThat(monitor.getSpec().getEndpoints()).singleElement().satisfies(e -> {
        assertThat(e.getPort()).isEqualTo(admin.getSpec().getPorts().getFirst().getName());
        assertThat(e.getPath()).isEqualTo("/metrics");
      });
    }
    for (NetworkPolicy policy : all(objects, NetworkPolicy.class)) {
      assertThat(podLabels).containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
      var rules = policy.getSpec().getIngress();
      var open = rules.stream().filter(r -> r.getFrom() == null || r.getFrom().isEmpty()).toList();
      assertThat(open).as("the rule open to everyone names the proxy port only").singleElement()
          .satisfies(r -> assertThat(r.getPorts()).extracting(p -> p.getPort().getStrVal()).containsExactly("http"));
      assertThat(rules).filteredOn(r -> r.getPorts().stream().anyMatch(p -> "admin".equals(p.getPort().getStrVal())))
          .singleElement().satisfies(r -> assertThat(r.getFrom()).isNotEmpty());
    }
  }

  private static int containerPort(Container c, String name) {
    return c.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort)
        .findFirst().orElseThrow(() -> new AssertionError("no container port named " + name));
  }

  private static String probe(Probe probe, Container c) {
    assertThat(probe).isNotNull();
    String port = probe.getHttpGet().getPort().getStrVal();
    return probe.getHttpGet().getPath() + ":" + (port != null ? containerPort(c, port) : probe.getHttpGet().getPort().getIntVal());
  }

  private static Volume volume(PodSpec pod, String name) {
    return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static boolean writableEmptyDir(PodSpec pod, Container c, String path) {
    return c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals(path) && !Boolean.TRUE.equals(m.getReadOnly())
        && volume(pod, m.getName()).getEmptyDir() != null);
  }

  private static long seconds(String duration) {
    Matcher m = Pattern.compile("(\\d+)(s|m)").matcher(duration);
    assertThat(m.matches()).as("a duration in s or m: %s", duration).isTrue();
    return Long.parseLong(m.group(1)) * (m.group(2).equals("m") ? 60 : 1);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }

  // ---- the ConfigMap's configuration, served

  @Test
  void theConfigMapsConfigurationServesWithAKeyMadeByTheDocumentedCommand() throws Exception {
    // docs/kubernetes.md: add-key with keys/add-key.yaml writes keys/keys.yaml (the Secret's file).
    Path keys = dir.resolve("keys");
    copyTree(KUBERNETES.resolve("keys"), keys);
    GatewayProcess.Result added = GatewayProcess.run(dir, "add-key", "--name", "ops", "--leases", "backend",
        "--generate", "--config", keys.resolve("add-key.yaml").toString());
    assertThat(added.exitCode()).as(added.stderr()).isZero();
    Matcher key = Pattern.compile("sk_live_[A-Za-z0-9_-]+").matcher(added.stdout());
    assertThat(key.find()).as(added.stdout()).isTrue();
    assertThat(Files.readString(keys.resolve("keys.yaml"))).contains("name: ops").doesNotContain(key.group());

    // The ConfigMap's file, with the container's paths and addresses replaced by this test's:
    // /etc/portal-gateway (the projected volume), data_dir (the emptyDir), the pod's ports, the
    // relay and the upstream.
    ConfigMap configMap = (ConfigMap) parseFile(KUBERNETES.resolve("configmap.yaml")).getFirst();
    String text = configMap.getData().get("gateway.yaml");
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Files.copy(keys.resolve("keys.yaml"), etc.resolve("keys.yaml"));
    try (DevRelay relay = DevRelay.start(new InetSocketAddress("127.0.0.1", 0));
         TestBackend backend = new TestBackend().route("/", ex -> TestBackend.respond(ex, 200, "text/plain", "backend"))) {
      String local = replace(text, Map.of(
          "\"0.0.0.0:8080\"", "\"127.0.0.1:0\"",
          "\"0.0.0.0:9090\"", "\"127.0.0.1:0\"",
          "\"/var/lib/portal-gateway\"", "\"" + dir.resolve("data") + "\"",
          "\"/etc/portal-gateway/keys.yaml\"", "\"" + etc.resolve("keys.yaml") + "\"",
          "\"wss://portal.example.com/relay\"", "\"" + relay.url() + "\"",
          "\"http://backend.default.svc.cluster.local:3000\"", "\"" + backend.url() + "\""));
      Path config = etc.resolve("gateway.yaml");
      Files.writeString(config, local);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      try (GatewayProcess gateway = GatewayProcess.serve(dir, config)) {
        String admin = "http://127.0.0.1:" + gateway.adminPort;
        assertThat(get(http, admin + "/healthz", null).statusCode()).isEqualTo(200);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (get(http, admin + "/readyz", null).statusCode() != 200) {
          assertThat(System.nanoTime()).as("ready (connected to the relay) within 30 s").isLessThan(deadline);
          Thread.sleep(100);
        }
        String route = "http://127.0.0.1:" + gateway.port + "/peer/backend/";
        assertThat(get(http, route, null).statusCode()).isEqualTo(401);
        HttpResponse<String> ok = get(http, route, key.group());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("backend");
        assertThat(gateway.terminate()).isZero();
      }
      assertThat(dir.resolve("data")).isDirectory();
    }
  }

  private static String replace(String text, Map<String, String> replacements) {
    String out = text;
    for (var e : replacements.entrySet()) {
      assertThat(out).as("the ConfigMap's gateway.yaml sets %s", e.getKey()).contains(e.getKey());
      out = out.replace(e.getKey(), e.getValue());
    }
    return out;
  }

  private static HttpResponse<String> get(HttpClient http, String url, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
