package dev.portalgateway.plugins.webhook;

import dev.portalgateway.api.CommandContext;
import dev.portalgateway.api.PluginCommand;
import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code portal-gateway webhooks ...}: the admin API's operations from the command line, on the
 * queue file in the data directory of the configuration given. It works beside a running gateway
 * (SQLite locks the file for each change; the gateway sees a replay within its poll interval) and
 * with the gateway stopped.
 */
final class WebhookCommand implements PluginCommand {
  private static final String USAGE = "list|show ID|body ID|replay|purge|resume ROUTE|stats "
      + "[--id ID[,ID...]] [--state pending|in_flight|delivered|dead] [--route NAME] [--since 2h|INSTANT] "
      + "[--until INSTANT] [--limit N] [--config FILE]";

  @Override
  public String name() {
    return "webhooks";
  }

  @Override
  public String summary() {
    return "list, show, replay or purge queued and dead-lettered webhooks; resume a route";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(List<String> args, CommandContext context) {
    PrintStream out = context.out();
    PrintStream err = context.err();
    if (args.isEmpty() || args.contains("--help") || args.contains("-h")) {
      (args.isEmpty() ? err : out).println("usage: portal-gateway webhooks " + USAGE);
      return args.isEmpty() ? 2 : 0;
    }
    String action = args.get(0);
    Map<String, String> params = new LinkedHashMap<>();
    String operand = null;
    for (int i = 1; i < args.size(); i++) {
      String a = args.get(i);
      if (a.startsWith("--")) {
        String name = a.substring(2);
        if (!WebhookRetryPlugin.PARAMETERS.contains(name)) {
          err.println("webhooks: unknown option " + a + "; usage: portal-gateway webhooks " + USAGE);
          return 2;
        }
        if (i + 1 >= args.size()) {
          err.println("webhooks: " + a + " needs a value");
          return 2;
        }
        params.put(name, args.get(++i));
      } else if (operand == null) {
        operand = a;
      } else {
        err.println("webhooks: unexpected argument '" + a + "'");
        return 2;
      }
    }
    Instant now = context.clock().instant();
    WebhookSettings settings;
    try {
      settings = WebhookSettings.from(context.config());
    } catch (dev.portalgateway.api.InvalidConfigException e) {
      err.println("webhooks: " + e.getMessage());
      return 2;
    }
    try (WebhookStore store = WebhookStores.open(settings, context.dataDirectory(), false)) {
      QueueOperations ops = new QueueOperations(store);
      switch (action) {
        case "list" -> out.print(ops.list(params, now));
        case "stats" -> out.print(ops.stats(now));
        case "show", "body" -> {
          if (operand == null) {
            err.println("webhooks " + action + ": name the webhook: webhooks " + action + " ID");
            return 2;
          }
          if (action.equals("show")) {
            Optional<String> shown = ops.show(operand);
            if (shown.isEmpty()) {
              err.println("webhooks show: no webhook has the id '" + operand + "'");
              return 1;
            }
            out.print(shown.get());
          } else {
            Optional<byte[]> body = ops.body(operand);
            if (body.isEmpty()) {
              err.println("webhooks body: no webhook has the id '" + operand + "'");
              return 1;
            }
            out.writeBytes(body.get()); // the body as received, for the operator who has the file anyway
            out.flush();
          }
        }
        case "replay" -> {
          if (operand != null) {
            params.merge("id", operand, (a, b) -> a + "," + b);
          }
          out.print(ops.replay(params, now));
        }
        case "purge" -> {
          if (operand != null) {
            params.merge("id", operand, (a, b) -> a + "," + b);
          }
          out.print(ops.purge(params, now));
        }
        case "resume" -> out.print(ops.resume(operand != null ? operand : params.get("route")));
        default -> {
          err.println("webhooks: unknown action '" + action + "'; usage: portal-gateway webhooks " + USAGE);
          return 2;
        }
      }
      return 0;
    } catch (QueueOperations.UsageException e) {
      err.println("webhooks " + action + ": " + e.getMessage());
      return 2;
    } catch (StoreException e) {
      err.println("webhooks " + action + ": " + e.getMessage());
      return 1;
    }
  }
}
