package dev.portalgateway.api;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * What a {@link PluginCommand} runs with: everything a filter's {@link PluginContext} has (its
 * metrics go nowhere, since no server is running), plus the plugin's configuration from the
 * {@code --config} file and the terminal's streams.
 */
public interface CommandContext extends PluginContext {

  /** @return the plugin's subtree of the configuration; empty when the file does not configure it */
  PluginConfig config();

  /** @return where the command's normal output goes; secrets shown once go here, never to the log */
  PrintStream out();

  /** @return where errors and usage go */
  PrintStream err();

  /**
   * The plugin's directory under the {@code server.data_dir} of the {@code --config} file. Unlike
   * a filter's, it is not created for a command: create it when the command writes
   * ({@link java.nio.file.Files#createDirectories}), so that a command that only reads, or stops at
   * a usage error, leaves nothing behind. Parse the arguments before asking for it.
   *
   * @return the plugin's data directory, which may not exist yet
   * @throws IllegalStateException when the command was run without {@code --config}: the gateway
   *     then says that the command needs the configuration file and exits with 2, rather than
   *     letting it use a directory the gateway does not read
   */
  @Override
  Path dataDirectory();
}
