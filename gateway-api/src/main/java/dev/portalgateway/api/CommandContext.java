package dev.portalgateway.api;

import java.io.PrintStream;

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
}
