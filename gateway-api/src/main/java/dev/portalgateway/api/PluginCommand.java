package dev.portalgateway.api;

import java.util.List;

/**
 * A command a plugin adds to the gateway's command line, run as
 * {@code java -jar portal-gateway.jar NAME [ARGS...] [--config FILE]}. The API-key plugin's
 * {@code add-key} and {@code list-keys} are commands; so is anything an operator runs against a
 * plugin's state without starting the server.
 *
 * <p>Return them from {@link GatewayPlugin#commands()}. Names are unique across all plugins and
 * must not shadow the gateway's own ({@code serve}, {@code validate-config}, {@code version},
 * {@code help}, {@code demo}, {@code relay}, {@code tunnel}).
 *
 * <p>The gateway reads two options itself, anywhere before a {@code --}: {@code --config FILE}
 * ({@code -c FILE}, {@code --config=FILE}), and {@code --help} ({@code -h}), which it answers from
 * {@link #summary()} and {@link #usage()} without calling {@link #run}. Use neither name for an
 * option of your own. A {@code --} and what follows it reach {@link #run} unchanged.
 */
public interface PluginCommand {

  /** @return the command name, such as {@code "add-key"}: lower-case letters, digits and dashes */
  String name();

  /** @return one line for {@code --help}: what the command does */
  String summary();

  /** @return the argument synopsis, such as {@code "--name NAME [--leases a,b] --generate"} */
  String usage();

  /**
   * Runs the command.
   *
   * @param args the arguments after the command name, without {@code --config FILE}; bad ones
   *     deserve a message on {@link CommandContext#err()} and the status 2
   * @param context the plugin's configuration, data directory and output streams
   * @return the exit status: 0 for success, 2 for bad usage, 1 for other failures
   * @throws InvalidConfigException when the plugin's configuration does not allow the command;
   *     the gateway prints the message and exits with 2
   */
  int run(List<String> args, CommandContext context) throws InvalidConfigException;
}
