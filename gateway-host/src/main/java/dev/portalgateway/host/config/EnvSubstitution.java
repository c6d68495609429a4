package dev.portalgateway.host.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in the string values of a parsed
 * configuration tree; {@code $${} writes a literal {@code ${}. Substituting values after parsing,
 * not the raw text, means a secret that contains YAML syntax cannot change the file's structure.
 */
public final class EnvSubstitution {
  private final Function<String, String> env;

  /** @param env looks up a variable; returns {@code null} when unset */
  public EnvSubstitution(Function<String, String> env) {
    this.env = env;
  }

  /**
   * Substitutes in place.
   *
   * @param node the tree
   * @throws ConfigException naming the key path of an unset variable without a default
   */
  public void apply(JsonNode node) throws ConfigException {
    walk(node, "");
  }

  private void walk(JsonNode node, String path) throws ConfigException {
    if (node instanceof ObjectNode obj) {
      Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String childPath = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        if (e.getValue().isTextual()) {
          e.setValue(new TextNode(substitute(e.getValue().textValue(), childPath)));
        } else {
          walk(e.getValue(), childPath);
        }
      }
    } else if (node instanceof ArrayNode arr) {
      for (int i = 0; i < arr.size(); i++) {
        String childPath = path + "[" + i + "]";
        if (arr.get(i).isTextual()) {
          arr.set(i, new TextNode(substitute(arr.get(i).textValue(), childPath)));
        } else {
          walk(arr.get(i), childPath);
        }
      }
    }
  }

  /**
   * @param value a string that may hold references
   * @param path its key path, for messages
   * @return the string with references replaced
   * @throws ConfigException when a variable without a default is unset, or a reference is not closed
   */
  public String substitute(String value, String path) throws ConfigException {
    if (value.indexOf('$') < 0) {
      return value;
    }
    StringBuilder out = new StringBuilder(value.length());
    int i = 0;
    while (i < value.length()) {
      char c = value.charAt(i);
      if (c == '$' && value.startsWith("$${", i)) {
        out.append("${");
        i += 3;
      } else if (c == '$' && value.startsWith("${", i)) {
        int end = value.indexOf('}', i + 2);
        if (end < 0) {
          throw new ConfigException(path + ": '${' is not closed with '}' (write $${ for a literal ${)");
        }
        String ref = value.substring(i + 2, end);
        int sep = ref.indexOf(":-");
        String name = sep < 0 ? ref : ref.substring(0, sep);
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
          throw new ConfigException(path + ": '${" + ref + "}' does not name an environment variable");
        }
        String resolved = env.apply(name);
        if (resolved == null || (sep >= 0 && resolved.isEmpty())) {
          if (sep < 0) {
            throw new ConfigException(path + ": environment variable " + name
                + " is not set; set it, or give a default with ${" + name + ":-default}");
          }
          resolved = ref.substring(sep + 2);
        }
        out.append(resolved);
        i = end + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
