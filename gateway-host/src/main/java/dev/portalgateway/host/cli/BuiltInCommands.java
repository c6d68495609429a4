package dev.portalgateway.host.cli;

import dev.portalgateway.host.config.ListenAddress;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The gateway's own commands ({@code serve}, {@code validate-config}, {@code version}, {@code help},
 * {@code demo}, {@code relay}, {@code tunnel}), parsed by picocli. Every one answers {@code --help}
 * before it does anything; a bad option is a message, the synopsis and status 2. Plugin commands
 * do not come through here: {@link PluginCommandLine} runs them. Picocli stays in the host: no type
 * of it reaches {@code gateway-api} or a plugin.
 */
final class BuiltInCommands {
  private static final String SECTION_PLUGIN_COMMANDS = "pluginCommands";

  private BuiltInCommands() {}

  /** The standard streams of one run. */
  record Terminal(PrintStream out, PrintStream err) {}

  /** @return the parser for the built-in commands, writing to {@code out} and {@code err} */
  static CommandLine commandLine(PrintStream out, PrintStream err) {
    Terminal terminal = new Terminal(out, err);
    Root root = new Root(terminal);
    CommandLine cli = new CommandLine(root)
        .addSubcommand(new Serve(terminal))
        .addSubcommand(new ValidateConfig(terminal))
        .addSubcommand(new Version(terminal))
        .addSubcommand(new Help(terminal))
        .addSubcommand(new Demo(terminal))
        .addSubcommand(new Relay(terminal))
        .addSubcommand(new Tunnel(terminal))
        .addSubcommand(new DemoService(terminal));
    // Set after the subcommands are added: these settings reach the commands present at the call.
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    cli.setParameterExceptionHandler(BuiltInCommands::usageError);
    cli.setExpandAtFiles(false); // "@word" is a word, never a file of arguments to read
    cli.setUsageHelpLongOptionsMaxWidth(28);
    List<String> sections = new ArrayList<>(cli.getHelpSectionKeys());
    sections.add(sections.indexOf(CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER_HEADING), SECTION_PLUGIN_COMMANDS);
    cli.setHelpSectionKeys(sections);
    cli.getHelpSectionMap().put(SECTION_PLUGIN_COMMANDS, help -> PluginCommandLine.section(root.config));
    return cli;
  }

  /** A bad option or argument: what is wrong, the synopsis, where to read more; status 2. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    PrintWriter err = command.getErr();
    String name = command.getCommandSpec().qualifiedName();
    err.println(name + ": " + describe(e));
    UnmatchedArgumentException.printSuggestions(e, err);
    CommandLine.Help help = command.getHelp();
    err.print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
    err.println("Run '" + name + " --help' for the options.");
    err.flush();
    return Main.USAGE;
  }

  private static String describe(ParameterException e) {
    if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String first = u.getUnmatched().get(0);
      return first.startsWith("-") && first.length() > 1 ? "unknown option '" + first + "'"
          : "unexpected argument '" + first + "'";
    }
    String message = e.getMessage();
    return message.isEmpty() ? message : Character.toLowerCase(message.charAt(0)) + message.substring(1);
  }

  /** {@code HOST:PORT}, {@code :PORT} or {@code [::1]:PORT}, as the configuration's listeners take them. */
  static final class HostPort implements ITypeConverter<InetSocketAddress> {
    @Override
    public InetSocketAddress convert(String value) {
      try {
        return ListenAddress.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** The version and the Java that runs it. */
  static final class VersionLines implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return lines();
    }

    static String[] lines() {
      return new String[] {
          "portal-gateway " + Main.version(),
          "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ") at "
              + System.getProperty("java.home", "?")};
    }
  }

  @Command(name = "portal-gateway",
      description = "The HTTPS front door for services behind a Portal relay. Without a command it runs the gateway (serve).",
      synopsisSubcommandLabel = "[COMMAND]",
      versionProvider = VersionLines.class,
      commandListHeading = "%nCommands:%n",
      footerHeading = "%n",
      footer = {"Run 'portal-gateway COMMAND --help' for a command's options.",
          "Exit status: 0 ok, 1 failed while running, 2 bad usage or configuration.",
          "Docs: docs/operations.md (Command line) and docs/configuration.md"})
  static final class Root implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "the YAML configuration; without it the gateway runs on its defaults "
            + "(listen :8080, admin 127.0.0.1:9090, relay ws://localhost:4017/relay, data in ./data)")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "print the version and exit")
    boolean version;

    Root(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return Main.serve(config, terminal.err());
    }
  }

  @Command(name = "serve", description = "run the gateway (the default command); it runs until SIGTERM or Ctrl-C")
  static final class Serve implements Callable<Integer> {
    private final Terminal terminal;

    @ParentCommand
    Root root;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "the YAML configuration; without it the gateway runs on its defaults")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    Serve(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return Main.serve(config != null ? config : root.config, terminal.err());
    }
  }

  @Command(name = "validate-config", description = "check a configuration file and its plugins, then exit")
  static final class ValidateConfig implements Callable<Integer> {
    private final Terminal terminal;

    @ParentCommand
    Root root;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "the YAML configuration to check (required)")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    ValidateConfig(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return Main.validate(config != null ? config : root.config, terminal.out(), terminal.err());
    }
  }

  @Command(name = "version", description = "print the version and the Java that runs it")
  static final class Version implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    Version(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      for (String line : VersionLines.lines()) {
        terminal.out().println(line);
      }
      return Main.OK;
    }
  }

  @Command(name = "help", description = "print this help, or a command's (also for commands from plugins)")
  static final class Help implements Callable<Integer> {
    private final Terminal terminal;

    @Spec
    CommandSpec spec;

    @ParentCommand
    Root root;

    @Parameters(index = "0", arity = "0..1", paramLabel = "COMMAND", description = "the command to explain")
    String command;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "the configuration whose server.plugins_dir holds the plugins to list")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    Help(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      CommandLine top = spec.parent().commandLine();
      if (config != null) {
        root.config = config; // the plugin section of the usage lists the plugins this file names
      }
      if (command == null) {
        top.usage(top.getOut());
        return Main.OK;
      }
      CommandLine builtIn = top.getSubcommands().get(command);
      if (builtIn != null) {
        builtIn.usage(top.getOut());
        return Main.OK;
      }
      return PluginCommandLine.help(command, root.config, terminal.out(), terminal.err());
    }
  }

  @Command(name = "demo",
      description = {"run a development relay, an MCP service behind a development tunnel as lease 'demo', "
          + "and the gateway in front of them, all on 127.0.0.1; it runs until SIGTERM or Ctrl-C.",
          "Its data goes to a new temporary directory, removed when it stops."})
  static final class Demo implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080",
        description = "the gateway's port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "9090",
        description = "the admin port: metrics, health (default ${DEFAULT-VALUE})")
    int adminPort;

    @Option(names = "--relay-port", paramLabel = "PORT", defaultValue = "4017",
        description = "the development relay's port (default ${DEFAULT-VALUE})")
    int relayPort;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    Demo(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return DevCommands.demo(port, adminPort, relayPort, terminal.out(), terminal.err());
    }
  }

  @Command(name = "demo-service",
      description = {"run the demo's MCP service alone, so that a tunnel in another process or container can put "
          + "it behind a relay; it runs until SIGTERM or Ctrl-C."})
  static final class DemoService implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8000", converter = HostPort.class,
        description = "where to listen (default ${DEFAULT-VALUE})")
    InetSocketAddress listen;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    DemoService(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return DevCommands.demoService(listen, terminal.out(), terminal.err());
    }
  }

  @Command(name = "relay",
      description = {"run a development Portal relay at ws://HOST:PORT/relay; it keeps leases in memory and "
          + "has no access control, so keep it on loopback. It runs until SIGTERM or Ctrl-C."})
  static final class Relay implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:4017", converter = HostPort.class,
        description = "where to listen (default ${DEFAULT-VALUE})")
    InetSocketAddress listen;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    Relay(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return DevCommands.relay(listen, terminal.out(), terminal.err());
    }
  }

  @Command(name = "tunnel",
      description = {"expose HOST:PORT as the lease NAME through a relay (development tunnel); it runs until "
          + "SIGTERM or Ctrl-C and reconnects to a relay that went away."})
  static final class Tunnel implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--relay", paramLabel = "URL", required = true, description = "the relay, such as ws://127.0.0.1:4017/relay")
    URI relay;

    @Option(names = "--name", paramLabel = "NAME", required = true, description = "the lease's name")
    String name;

    @Option(names = "--target", paramLabel = "HOST:PORT", required = true, converter = HostPort.class,
        description = "the service to forward each connection to")
    InetSocketAddress target;

    @Option(names = "--identity", paramLabel = "FILE",
        description = "where the lease's key is kept (default: tunnel-NAME.key in $XDG_STATE_HOME/portal-gateway, "
            + "else ~/.local/state/portal-gateway; made on first use)")
    Path identity;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    Tunnel(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      return DevCommands.tunnel(relay, name, target, identity, terminal.out(), terminal.err());
    }
  }
}
