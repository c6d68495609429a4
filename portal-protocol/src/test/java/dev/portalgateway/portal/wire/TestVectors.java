package dev.portalgateway.portal.wire;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The known-answer values in {@code portal-v1-vectors.json}, produced by the Go implementation.
 * The file is parsed with a small JSON reader because the module has no JSON dependency.
 */
public final class TestVectors {
  private static final Map<String, Object> ROOT = load();

  private TestVectors() {
  }

  /** The value at a dotted path such as {@code client_init.nonce} or {@code identity.0.id}. */
  public static Object get(String path) {
    Object node = ROOT;
    for (String part : path.split("\\.")) {
      if (node instanceof Map<?, ?> map) {
        node = map.get(part);
      } else if (node instanceof List<?> list) {
        node = list.get(Integer.parseInt(part));
      } else {
        node = null;
      }
      if (node == null) {
        throw new IllegalArgumentException("no vector at " + path);
      }
    }
    return node;
  }

  /** A string vector. */
  public static String string(String path) {
    return (String) get(path);
  }

  /** A hex vector, decoded. */
  public static byte[] hex(String path) {
    return HexFormat.of().parseHex(string(path));
  }

  /** A numeric vector. */
  public static long number(String path) {
    return (Long) get(path);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> load() {
    try (InputStream in = TestVectors.class.getResourceAsStream("/portal-v1-vectors.json")) {
      if (in == null) {
        throw new IllegalStateException("portal-v1-vectors.json is not on the test classpath");
      }
      return (Map<String, Object>) new JsonReader(new String(in.readAllBytes(), StandardCharsets.UTF_8)).value();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Just enough JSON for the vectors file: objects, arrays, strings, integers, literals. */
  private static final class JsonReader {
    private final String text;
    private int pos;

    JsonReader(String text) {
      this.text = text;
    }

    Object value() {
      skipSpace();
      char c = text.charAt(pos);
      switch (c) {
        case '{': return object();
        case '[': return array();
        case '"': return string();
        default: break;
      }
      if (text.startsWith("true", pos)) {
        pos += 4;
        return Boolean.TRUE;
      }
      if (text.startsWith("false", pos)) {
        pos += 5;
        return Boolean.FALSE;
      }
      if (text.startsWith("null", pos)) {
        pos += 4;
        return null;
      }
      int start = pos;
      while (pos < text.length() && "-0123456789".indexOf(text.charAt(pos)) >= 0) {
        pos++;
      }
      return Long.parseLong(text.substring(start, pos));
    }

    private Map<String, Object> object() {
      Map<String, Object> map = new LinkedHashMap<>();
      pos++;
      skipSpace();
      if (text.charAt(pos) == '}') {
        pos++;
        return map;
      }
      while (true) {
        skipSpace();
        String key = string();
        skipSpace();
        expect(':');
        map.put(key, value());
        skipSpace();
        if (text.charAt(pos++) == '}') {
          return map;
        }
      }
    }

    private List<Object> array() {
      List<Object> list = new ArrayList<>();
      pos++;
      skipSpace();
      if (text.charAt(pos) == ']') {
        pos++;
        return list;
      }
      while (true) {
        list.add(value());
        skipSpace();
        if (text.charAt(pos++) == ']') {
          return list;
        }
      }
    }

    private String string() {
      expect('"');
      StringBuilder out = new StringBuilder();
      while (true) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return out.toString();
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = text.charAt(pos++);
        switch (e) {
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'u' -> {
            out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
            pos += 4;
          }
          default -> out.append(e);
        }
      }
    }

    private void expect(char c) {
      if (text.charAt(pos) != c) {
        throw new IllegalStateException("expected '" + c + "' at " + pos);
      }
      pos++;
    }

    private void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }
  }
}
