package dev.portalgateway.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows a walk-through in the documentation word for word: it runs each {@code sh} code block
 * of one section, as a person would paste it into a terminal, and checks what it printed against
 * the output block the documentation shows after it.
 *
 * <p>What the documentation says is all there is to it, with these rules, so that the same text
 * works on any machine and in any run:
 *
 * <ul>
 *   <li>An {@code sh} block is run in one long-lived {@code bash}, the reader's terminal: an
 *       {@code export} stays for the blocks after it. Its exit status must be 0. The working
 *       directory is a fresh folder with {@code dist} pointing at the built distribution, as the
 *       repository root has it.
 *   <li>The fenced block without a language that follows an {@code sh} block, before any other
 *       fenced block, is what that command prints, compared line by line (an HTTP answer: its
 *       status line and body line by line, its header fields in any order). A line
 *       {@code ...} stands for any lines.
 *   <li>An HTML comment right before a block tells how to run it, never what it runs:
 *       {@code <!-- test: background "TEXT" -->} starts the block as a program that keeps running
 *       (another terminal) and waits until it has printed TEXT; {@code background port N} waits
 *       until port N accepts connections, {@code background ready URL} until URL answers 200. The output block after it must appear somewhere in its
 *       output. {@code <!-- test: skip -->} leaves a block out (said in the text why);
 *       {@code <!-- test: file NAME -->} writes a block into the file NAME;
 *       {@code <!-- test: any order -->} compares the output block's lines in any order.
 *   <li>What changes from run to run is matched, not compared: API keys, lease IDs, loopback
 *       ports that the documentation does not fix, times, request ids, paths under
 *       {@code /home/you/}, and the values of the header fields {@link #VOLATILE_HEADERS}. A value
 *       seen once must be the same wherever it shows up again, and it replaces the documented
 *       value in the commands after it, as a reader pastes the key the program printed.
 *   <li>The documented ports are moved to free ones (the same number everywhere in the section),
 *       so that the test does not depend on 8080 being free.
 * </ul>
 */
final class Walkthrough implements AutoCloseable {
  /** Header fields whose values depend on the moment: only their presence is checked. */
  static final Set<String> VOLATILE_HEADERS = Set.of("date", "x-request-id", "retry-after", "ratelimit-reset",
      "server", "last-modified");

  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern FENCE = Pattern.compile("^```(\\S*)\\s*$");
  private static final Pattern DIRECTIVE = Pattern.compile("^<!-- test: (.+?) -->$");

  /** Values that change between runs: the part in group 1 (or the whole match) is bound or ignored. */
  private enum Token {
    API_KEY("sk_live_[A-Za-z0-9]{12}_[A-Za-z0-9]{20,}", true),
    KEY_ID("(?<=API key )[A-Za-z0-9]{12}(?= )", true),
    LEASE_ID("(?<![A-Za-z0-9])[A-Z2-7]{26}(?![A-Za-z0-9])", true),
    LOOPBACK_PORT("(?<=127\\.0\\.0\\.1:)\\d{2,5}(?!\\d)", true),
    INSTANT("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z", false),
    REQUEST_ID("(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", false),
    UUID("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", false),
    HOME_PATH("/home/you/\\S*", false);

    final Pattern pattern;
    final boolean bound;

    Token(String regex, boolean bound) {
      this.pattern = Pattern.compile(regex);
      this.bound = bound;
    }

    String valueRegex() {
      return switch (this) {
        case API_KEY -> "sk_live_[A-Za-z0-9]{12}_[A-Za-z0-9]{20,}";
        case KEY_ID -> "[A-Za-z0-9]{12}";
        case LEASE_ID -> "[A-Z2-7]{26}";
        case LOOPBACK_PORT -> "\\d{2,5}";
        case INSTANT -> "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z";
        case REQUEST_ID -> "[0-9a-f]{32}";
        case UUID -> "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        case HOME_PATH -> "/\\S*";
      };
    }
  }

  /** One code block of the walk-through, with the comment before it and the output block after it. */
  record Block(String language, String code, String directive, String expected, String expectedDirective, int line) {
    boolean runs() {
      return language.equals("sh") && !"skip".equals(directive);
    }
  }

  /** What a command printed. */
  record Output(int exitCode, String stdout) {}

  private record Background(String name, Process process, Path log) {}

  private final Path workDir;
  private final Map<String, String> substitutions = new LinkedHashMap<>();
  private final Set<String> knownActuals = new java.util.HashSet<>();
  private final Set<String> fixedPorts = new java.util.HashSet<>();
  private final List<Background> background = new ArrayList<>();
  private final List<String> ran = new ArrayList<>();
  private final Process shell;
  private final Writer shellIn;
  private final BlockingQueue<String> shellLines = new LinkedBlockingQueue<>();
  private final Path shellErr;
  private final Map<String, String> env;
  private int commands;

  /**
   * @param workDir an empty folder: the reader's working directory
   * @param ports the documented ports to move to free ones
   */
  Walkthrough(Path workDir, int... ports) throws IOException {
    this.workDir = workDir;
    Files.createSymbolicLink(workDir.resolve("dist"), GatewayProcess.DIST);
    for (int port : ports) {
      String free = Integer.toString(freePort());
      substitutions.put(Integer.toString(port), free);
      fixedPorts.add(free);
      knownActuals.add(free);
    }
    env = new HashMap<>();
    Path javaHome = Path.of(GatewayProcess.java()).getParent();
    env.put("PATH", javaHome + ":" + System.getenv("PATH"));
    // The development tunnel keeps its key in the user's state folder: here, in the work folder.
    env.put("XDG_STATE_HOME", workDir.resolve("state").toString());
    shellErr = workDir.resolve("terminal.stderr");
    ProcessBuilder pb = new ProcessBuilder("bash", "--noprofile", "--norc").directory(workDir.toFile())
        .redirectError(shellErr.toFile());
    pb.environment().putAll(env);
    shell = pb.start();
    shellIn = new OutputStreamWriter(shell.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          shellLines.add(line);
        }
      } catch (IOException e) {
        // The shell is gone; a command waiting for its end sees the timeout.
      }
    }, "walkthrough-terminal");
    reader.setDaemon(true);
    reader.start();
  }

  /** The port a documented port was moved to. */
  int port(int documented) {
    return Integer.parseInt(substitutions.get(Integer.toString(documented)));
  }

  /** The commands run so far, as run (after substitution). */
  List<String> ran() {
    return List.copyOf(ran);
  }

  /** Applies what is known so far to a documented text: ports, and values seen in earlier output. */
  String substitute(String documented) {
    String s = documented;
    for (var e : substitutions.entrySet()) {
      s = s.replaceAll("(?<![\\w.])" + Pattern.quote(e.getKey()) + "(?!\\w)", Matcher.quoteReplacement(e.getValue()));
    }
    return s;
  }

  /**
   * Reads the code blocks of the section of {@code markdown} that starts with the heading line
   * {@code heading} and ends before the next heading of the same or a higher level.
   */
  static List<Block> section(Path markdown, String heading) throws IOException {
    List<String> lines = Files.readAllLines(markdown, StandardCharsets.UTF_8);
    int start = lines.indexOf(heading);
    if (start < 0) {
      throw new AssertionError(markdown + " has no heading line '" + heading + "'");
    }
    int level = heading.indexOf(' ');
    List<Block> raw = new ArrayList<>();
    String directive = null;
    boolean inFence = false;
    String language = null;
    StringBuilder code = new StringBuilder();
    int blockLine = 0;
    for (int i = start + 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (inFence) {
        if (line.strip().equals("```")) {
          raw.add(new Block(language, code.toString(), directive, null, null, blockLine));
          directive = null;
          inFence = false;
        } else {
          code.append(stripIndent(line, lines.get(blockLine - 1))).append('\n');
        }
        continue;
      }
      if (line.startsWith("#") && line.indexOf(' ') > 0 && line.indexOf(' ') <= level && line.chars().limit(line.indexOf(' ')).allMatch(c -> c == '#')) {
        break;
      }
      Matcher fence = FENCE.matcher(line.strip());
      Matcher d = DIRECTIVE.matcher(line.strip());
      if (fence.matches()) {
        inFence = true;
        language = fence.group(1);
        code = new StringBuilder();
        blockLine = i + 1;
      } else if (d.matches()) {
        directive = d.group(1);
      } else if (!line.isBlank()) {
        directive = null;
      }
    }
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      Block b = raw.get(i);
      if (b.language().equals("sh") && i + 1 < raw.size() && raw.get(i + 1).language().isEmpty()) {
        Block out = raw.get(i + 1);
        blocks.add(new Block(b.language(), b.code(), b.directive(), out.code(), out.directive(), b.line()));
        i++;
      } else {
        blocks.add(b);
      }
    }
    return blocks;
  }

  private static String stripIndent(String line, String fenceLine) {
    int indent = fenceLine.length() - fenceLine.stripLeading().length();
    int n = 0;
    while (n < indent && n < line.length() && line.charAt(n) == ' ') {
      n++;
    }
    return line.substring(n);
  }

  /** Runs every block of the section in order, checking each documented output. */
  void follow(Path markdown, String heading) throws Exception {
    for (Block b : section(markdown, heading)) {
      follow(b, markdown);
    }
  }

  /** Runs one block as its comment says, and checks its documented output. */
  void follow(Block b, Path markdown) throws Exception {
    String where = markdown.getFileName() + ":" + b.line();
    if (b.directive() != null && b.directive().startsWith("file ")) {
      Path file = workDir.resolve(b.directive().substring("file ".length()).strip());
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, substitute(b.code()));
      return;
    }
    if (!b.runs()) {
      return;
    }
    String command = adjust(substitute(b.code()));
    ran.add(command.strip());
    if (b.directive() != null && b.directive().startsWith("background")) {
      Background bg = start(command, b.directive(), where);
      if (b.expected() != null) {
        String printed = Files.readString(bg.log(), StandardCharsets.UTF_8);
        check(where, command, b.expected(), printed, Mode.CONTAINS);
      }
      return;
    }
    Output out = run(command, where);
    if (out.exitCode() != 0) {
      throw new AssertionError(where + ": `" + command.strip() + "` exited with " + out.exitCode() + "\n" + out.stdout()
          + "\n--- stderr ---\n" + Files.readString(shellErr));
    }
    if (b.expected() != null) {
      check(where, command, b.expected(), out.stdout(),
          "any order".equals(b.expectedDirective()) ? Mode.ANY_ORDER : Mode.EXACT);
    }
  }

  /**
   * The one change to a command that is not a substitution: {@code demo} without port options
   * gets the moved ports, as the quick start tells a reader whose ports are taken.
   */
  private String adjust(String command) {
    String c = command.strip();
    boolean demo = c.endsWith("portal-gateway.jar demo") || c.endsWith("bin/portal-gateway demo");
    if (demo && substitutions.containsKey("8080")) {
      return command.stripTrailing() + " --port " + port(8080) + " --admin-port " + port(9090) + " --relay-port "
          + port(4017) + "\n";
    }
    return command;
  }

  /** Runs a command in the reader's terminal and returns what it printed on standard output. */
  Output run(String command, String where) throws IOException, InterruptedException {
    String end = "__walkthrough_end_" + (++commands) + "__";
    shellIn.write("{\n" + command + "\n} < /dev/null\nprintf '\\n%s %d\\n' " + end + " $?\n");
    shellIn.flush();
    StringBuilder out = new StringBuilder();
    long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
    while (true) {
      String line = shellLines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new AssertionError(where + ": `" + command.strip() + "` did not finish within " + COMMAND_TIMEOUT
            + "; it printed:\n" + out);
      }
      if (line.startsWith(end + " ")) {
        return new Output(Integer.parseInt(line.substring(end.length() + 1).strip()), out.toString());
      }
      out.append(line).append('\n');
    }
  }

  private Background start(String command, String directive, String where) throws IOException, InterruptedException {
    String name = "background-" + (background.size() + 1);
    Path log = workDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder("bash", "--noprofile", "--norc", "-c", command).directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    Process p = pb.start();
    Background bg = new Background(name, p, log);
    background.add(bg);
    String rest = directive.substring("background".length()).strip();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (true) {
      String printed = Files.readString(log, StandardCharsets.UTF_8);
      boolean ready;
      if (rest.startsWith("port ")) {
        ready = accepts(Integer.parseInt(substitute(rest.substring("port ".length()).strip())));
      } else if (rest.startsWith("ready ")) {
        ready = answers200(substitute(rest.substring("ready ".length()).strip()));
      } else {
        ready = printed.contains(substitute(rest.replaceAll("^\"|\"$", "")));
      }
      if (ready) {
        return bg;
      }
      if (!p.isAlive()) {
        throw new AssertionError(where + ": `" + command.strip() + "` exited with " + p.exitValue() + ":\n" + printed);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(where + ": `" + command.strip() + "` was not ready (" + rest + ") within "
            + START_TIMEOUT + ":\n" + printed);
      }
      Thread.sleep(50);
    }
  }

  private static boolean answers200(String url) {
    try (java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient()) {
      return client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
          java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** What a background program has printed so far. */
  String printed(int index) throws IOException {
    return Files.readString(background.get(index).log(), StandardCharsets.UTF_8);
  }

  /** Stops a background program as Ctrl-C in its terminal would (SIGTERM here) and returns its status. */
  int stop(int index) throws InterruptedException {
    Process p = background.get(index).process();
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(background.get(index).name() + " did not stop within 60 s of SIGTERM");
    }
    return p.exitValue();
  }

  @Override
  public void close() throws Exception {
    for (int i = background.size() - 1; i >= 0; i--) {
      Process p = background.get(i).process();
      if (p.isAlive()) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
    shell.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Comparing output

  enum Mode { EXACT, ANY_ORDER, CONTAINS }

  /** A documented line made into a pattern: literal text, with the changing values as groups. */
  private record LinePattern(Pattern pattern, List<String> documentedValues, List<Token> tokens, String documented) {}

  private LinePattern pattern(String documented) {
    String line = substitute(documented);
    StringBuilder regex = new StringBuilder();
    List<String> values = new ArrayList<>();
    List<Token> tokens = new ArrayList<>();
    int at = 0;
    while (at < line.length()) {
      Token found = null;
      Matcher best = null;
      for (Token t : Token.values()) {
        Matcher m = t.pattern.matcher(line);
        if (m.find(at) && (best == null || m.start() < best.start())) {
          best = m;
          found = t;
        }
      }
      if (best == null) {
        break;
      }
      regex.append(Pattern.quote(line.substring(at, best.start())));
      String value = best.group();
      if (found.bound && knownActuals.contains(value)) {
        regex.append(Pattern.quote(value)); // already the value of this run, or a fixed port
      } else if (found.bound) {
        regex.append('(').append(found.valueRegex()).append(')');
        values.add(value);
        tokens.add(found);
      } else {
        regex.append("(?:").append(found.valueRegex()).append(')');
      }
      at = best.end();
    }
    regex.append(Pattern.quote(line.substring(at)));
    return new LinePattern(Pattern.compile(regex.toString()), values, tokens, documented);
  }

  /** Matches one line; returns the new bindings (documented value to this run's), or empty when it does not match. */
  private Optional<Map<String, String>> match(LinePattern p, String actual, Map<String, String> bindings) {
    Matcher m = p.pattern().matcher(actual);
    if (!m.matches()) {
      return Optional.empty();
    }
    Map<String, String> result = new HashMap<>(bindings);
    for (int i = 0; i < p.documentedValues().size(); i++) {
      String documented = p.documentedValues().get(i);
      String value = m.group(i + 1);
      String before = result.putIfAbsent(documented, value);
      if (before != null && !before.equals(value)) {
        return Optional.empty(); // the same documented value must be the same value in this run
      }
    }
    return Optional.of(result);
  }

  private static List<String> lines(String text) {
    List<String> lines = new ArrayList<>();
    for (String l : text.replace("\r", "").split("\n", -1)) {
      lines.add(l.stripTrailing());
    }
    while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    while (!lines.isEmpty() && lines.get(0).isEmpty()) {
      lines.remove(0);
    }
    return lines;
  }

  /** Checks printed output against the documented block, and learns the values it binds. */
  void check(String where, String command, String documented, String printed, Mode mode) {
    List<String> expected = lines(documented);
    List<String> actual = lines(printed);
    Optional<Map<String, String>> result;
    if (mode != Mode.CONTAINS && !expected.isEmpty() && expected.get(0).startsWith("HTTP/")) {
      result = matchHttp(expected, actual);
    } else if (mode == Mode.ANY_ORDER) {
      result = matchAnyOrder(expected, actual, Map.of());
    } else if (mode == Mode.CONTAINS) {
      result = Optional.empty();
      for (int start = 0; start < actual.size() && result.isEmpty(); start++) {
        result = matchLines(expected, 0, actual.subList(start, actual.size()), 0, Map.of(), true);
      }
    } else {
      result = matchLines(expected, 0, actual, 0, Map.of(), false);
    }
    if (result.isEmpty()) {
      throw new AssertionError(where + ": `" + command.strip() + "` printed what the documentation does not show.\n"
          + "--- documented (after substitution) ---\n" + substitute(documented) + "--- printed ---\n" + printed);
    }
    for (var e : result.get().entrySet()) {
      if (!e.getKey().equals(e.getValue())) {
        substitutions.put(e.getKey(), e.getValue());
      }
      knownActuals.add(e.getValue());
    }
  }

  private Optional<Map<String, String>> matchLines(List<String> expected, int e, List<String> actual, int a,
      Map<String, String> bindings, boolean prefix) {
    if (e == expected.size()) {
      return a == actual.size() || prefix ? Optional.of(bindings) : Optional.empty();
    }
    if (expected.get(e).strip().equals("...")) {
      for (int skip = a; skip <= actual.size(); skip++) {
        Optional<Map<String, String>> r = matchLines(expected, e + 1, actual, skip, bindings, prefix);
        if (r.isPresent()) {
          return r;
        }
      }
      return Optional.empty();
    }
    if (a == actual.size()) {
      return Optional.empty();
    }
    Optional<Map<String, String>> here = match(pattern(expected.get(e)), actual.get(a), bindings);
    return here.flatMap(b -> matchLines(expected, e + 1, actual, a + 1, b, prefix));
  }

  private Optional<Map<String, String>> matchAnyOrder(List<String> expected, List<String> actual,
      Map<String, String> bindings) {
    boolean more = expected.stream().anyMatch(l -> l.strip().equals("..."));
    List<String> left = new ArrayList<>(actual);
    Map<String, String> b = bindings;
    for (String e : expected) {
      if (e.strip().equals("...")) {
        continue;
      }
      LinePattern p = pattern(e);
      boolean found = false;
      for (int i = 0; i < left.size(); i++) {
        Optional<Map<String, String>> r = match(p, left.get(i), b);
        if (r.isPresent()) {
          b = r.get();
          left.remove(i);
          found = true;
          break;
        }
      }
      if (!found) {
        return Optional.empty();
      }
    }
    return left.isEmpty() || more ? Optional.of(b) : Optional.empty();
  }

  private Optional<Map<String, String>> matchHttp(List<String> expected, List<String> actual) {
    int eBlank = expected.indexOf("");
    int aBlank = actual.indexOf("");
    List<String> eHead = eBlank < 0 ? expected : expected.subList(0, eBlank);
    List<String> aHead = aBlank < 0 ? actual : actual.subList(0, aBlank);
    List<String> eBody = eBlank < 0 ? List.of() : expected.subList(eBlank + 1, expected.size());
    List<String> aBody = aBlank < 0 ? List.of() : actual.subList(aBlank + 1, actual.size());
    if (aHead.isEmpty()) {
      return Optional.empty();
    }
    Optional<Map<String, String>> b = match(pattern(eHead.get(0)), aHead.get(0), Map.of());
    if (b.isEmpty()) {
      return b;
    }
    boolean more = eHead.stream().anyMatch(l -> l.strip().equals("..."));
    Map<String, String> actualFields = new LinkedHashMap<>();
    for (String field : aHead.subList(1, aHead.size())) {
      int colon = field.indexOf(':');
      actualFields.put(field.substring(0, Math.max(colon, 0)).toLowerCase(Locale.ROOT), field);
    }
    Map<String, String> bindings = b.get();
    for (String field : eHead.subList(1, eHead.size())) {
      if (field.strip().equals("...")) {
        continue;
      }
      String name = field.substring(0, Math.max(field.indexOf(':'), 0)).toLowerCase(Locale.ROOT);
      String got = actualFields.remove(name);
      if (got == null) {
        return Optional.empty();
      }
      if (!VOLATILE_HEADERS.contains(name)) {
        Optional<Map<String, String>> r = match(pattern(field), got, bindings);
        if (r.isEmpty()) {
          return r;
        }
        bindings = r.get();
      }
    }
    if (!actualFields.isEmpty() && !more) {
      return Optional.empty();
    }
    return matchLines(eBody, 0, aBody, 0, bindings, false);
  }
}
