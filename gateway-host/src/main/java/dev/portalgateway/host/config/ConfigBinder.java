package dev.portalgateway.host.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * Binds configuration trees onto records, for the gateway's own settings and for plugins'.
 * One place decides the rules: {@code snake_case} keys, unknown keys are errors, durations like
 * {@code 30s}, sizes like {@code 10MiB}, and every error names its key path.
 */
public final class ConfigBinder {
  /**
   * YAML with duplicate keys refused: a second {@code auth-apikey:} under {@code plugins:} would
   * otherwise silently replace the first (and could turn authentication off on a reload).
   */
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));
  private static final ObjectMapper BINDER = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
      // Scalars from ${ENV} are always strings: "20" must still bind to a number.
      .enable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .addModule(new SimpleModule("portal-gateway-config")
          .addDeserializer(Duration.class, new DurationDeserializer())
          .addDeserializer(Long.class, new SizeDeserializer(Long.class))
          .addDeserializer(long.class, new SizeDeserializer(long.class))
          .addDeserializer(Boolean.class, new BooleanDeserializer(Boolean.class))
          .addDeserializer(boolean.class, new BooleanDeserializer(boolean.class)))
      .build();

  private ConfigBinder() {}

  /**
   * @param yaml YAML text
   * @param source where it came from, for messages
   * @return the parsed tree; an empty document is an empty object
   * @throws ConfigException when the YAML does not parse
   */
  public static JsonNode parseYaml(String yaml, String source) throws ConfigException {
    try {
      JsonNode node = YAML.readTree(yaml);
      if (node == null || node.isMissingNode() || node.isNull()) {
        return YAML.createObjectNode();
      }
      if (!node.isObject()) {
        throw new ConfigException(source + ": the top level must be a mapping of keys (server:, upstreams:, plugins:, ...)");
      }
      return node;
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      String message = e.getOriginalMessage();
      if (message != null && message.startsWith("Duplicate field '")) {
        String key = message.substring("Duplicate field '".length(), message.indexOf('\'', "Duplicate field '".length()));
        throw new ConfigException(source + ": the key '" + key + "' appears twice in one mapping" + where
            + "; a second entry would silently replace the first: merge them into one");
      }
      throw new ConfigException(source + ": not valid YAML" + where + ": " + message);
    }
  }

  /**
   * @param tree a configuration subtree
   * @param type the record to bind it to
   * @param pathPrefix the key path of {@code tree}, such as {@code plugins.auth-apikey}; empty for the root
   * @return the bound value
   * @throws ConfigException naming the key path of the first unknown key or bad value
   */
  public static <T> T bind(JsonNode tree, Class<T> type, String pathPrefix) throws ConfigException {
    try {
      return BINDER.treeToValue(tree, type);
    } catch (JsonMappingException e) {
      throw new ConfigException(describe(e, pathPrefix), e);
    } catch (JsonProcessingException e) {
      throw new ConfigException(prefixed(pathPrefix, "") + ": " + e.getOriginalMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(prefixed(pathPrefix, "") + ": " + e.getMessage(), e);
    }
  }

  /** @return the tree as plain maps, lists and scalars */
  @SuppressWarnings("unchecked")
  public static java.util.Map<String, Object> toMap(JsonNode tree) {
    return tree == null || !tree.isObject()
        ? java.util.Map.of()
        : BINDER.convertValue(tree, java.util.Map.class);
  }

  private static String describe(JsonMappingException e, String pathPrefix) {
    String path = pathOf(e, pathPrefix);
    if (e instanceof UnrecognizedPropertyException u) {
      Collection<Object> known = u.getKnownPropertyIds();
      String knownList = known == null ? "" : known.stream().map(Object::toString).sorted()
          .collect(Collectors.joining(", "));
      return path + ": unknown key" + (knownList.isEmpty() ? "" : "; the keys allowed here are: " + knownList);
    }
    Throwable cause = e.getCause();
    if (cause instanceof IllegalArgumentException iae && cause.getMessage() != null) {
      return path + ": " + iae.getMessage();
    }
    if (e instanceof InvalidFormatException f) {
      return path + ": '" + f.getValue() + "' is not a valid " + simpleName(f.getTargetType());
    }
    if (e instanceof MismatchedInputException m) {
      return path + ": expected " + describeType(m.getTargetType());
    }
    return path + ": " + e.getOriginalMessage();
  }

  private static String pathOf(JsonMappingException e, String prefix) {
    StringBuilder sb = new StringBuilder(prefix);
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (!sb.isEmpty()) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.isEmpty() ? "(top level)" : sb.toString();
  }

  private static String prefixed(String prefix, String path) {
    return prefix.isEmpty() ? (path.isEmpty() ? "(top level)" : path) : prefix + path;
  }

  private static String describeType(Class<?> type) {
    if (type == null) {
      return "a different kind of value";
    }
    if (type.isRecord() || java.util.Map.class.isAssignableFrom(type)) {
      return "a mapping of keys";
    }
    if (Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "a list";
    }
    return "a " + simpleName(type);
  }

  private static String simpleName(Class<?> type) {
    if (type == null) return "value";
    if (type == Boolean.class || type == boolean.class) return "boolean (true or false)";
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) return "whole number";
    if (type == Double.class || type == double.class) return "number";
    if (type == Duration.class) return "duration (like 30s)";
    return type.getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }

  /** Durations: {@code 30s}, {@code 500ms}, ISO-8601, or a bare number of seconds. */
  private static final class DurationDeserializer extends StdScalarDeserializer<Duration> {
    DurationDeserializer() {
      super(Duration.class);
    }

    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      if (p.currentToken() == JsonToken.VALUE_NUMBER_INT || p.currentToken() == JsonToken.VALUE_NUMBER_FLOAT) {
        return Duration.ofMillis(Math.round(p.getDoubleValue() * 1000));
      }
      if (p.currentToken() == JsonToken.VALUE_STRING) {
        try {
          return Durations.parse(p.getText());
        } catch (IllegalArgumentException e) {
          throw JsonMappingException.from(p, e.getMessage(), e);
        }
      }
      return (Duration) ctx.handleUnexpectedToken(Duration.class, p);
    }
  }

  /**
   * Booleans, which also accept the strings {@code true} and {@code false}: values substituted
   * from the environment ({@code access_log: ${ACCESS_LOG:-true}}) are always strings.
   */
  private static final class BooleanDeserializer extends StdScalarDeserializer<Boolean> {
    private final boolean primitive;

    BooleanDeserializer(Class<?> type) {
      super(type);
      this.primitive = type.isPrimitive();
    }

    @Override
    public Boolean deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
        return t == JsonToken.VALUE_TRUE;
      }
      if (t == JsonToken.VALUE_STRING) {
        String s = p.getText().trim();
        if (s.equalsIgnoreCase("true")) {
          return true;
        }
        if (s.equalsIgnoreCase("false")) {
          return false;
        }
        throw JsonMappingException.from(p, "'" + s + "' is not a boolean; write true or false");
      }
      return (Boolean) ctx.handleUnexpectedToken(Boolean.class, p);
    }

    @Override
    public Boolean getNullValue(DeserializationContext ctx) {
      return primitive ? Boolean.FALSE : null; // a missing primitive is false, as PluginConfig documents
    }
  }

  /** Whole numbers, which also accept sizes such as {@code 64KiB}. */
  private static final class SizeDeserializer extends StdScalarDeserializer<Long> {
    private final boolean primitive;

    SizeDeserializer(Class<?> type) {
      super(type);
      this.primitive = type.isPrimitive();
    }

    @Override
    public Long getNullValue(DeserializationContext ctx) {
      return primitive ? 0L : null; // a missing primitive is 0, as PluginConfig documents
    }

    @Override
    public Long deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) {
        return p.getLongValue();
      }
      if (p.currentToken() == JsonToken.VALUE_STRING) {
        try {
          return ByteSizes.parse(p.getText());
        } catch (IllegalArgumentException | ArithmeticException e) {
          throw JsonMappingException.from(p, e.getMessage(), e);
        }
      }
      return (Long) ctx.handleUnexpectedToken(Long.class, p);
    }
  }
}
