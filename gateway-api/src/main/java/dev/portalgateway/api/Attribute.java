package dev.portalgateway.api;

import java.util.Objects;

/**
 * A typed key for a value that a filter attaches to a request for the filters after it, such as
 * the authenticated {@link StandardAttributes#PRINCIPAL}. Keys compare by identity: keep each in a
 * {@code static final} field and share it with the plugins that read it.
 *
 * @param <T> the type of the value
 */
public final class Attribute<T> {
  private final String name;
  private final Class<T> type;

  private Attribute(String name, Class<T> type) {
    this.name = Objects.requireNonNull(name, "name");
    this.type = Objects.requireNonNull(type, "type");
  }

  /**
   * @param name a descriptive name, such as {@code "auth-apikey.key-id"}; used in messages only
   * @param type the type of the value
   * @param <T> the type of the value
   * @return a new key, distinct from every other
   */
  public static <T> Attribute<T> of(String name, Class<T> type) {
    return new Attribute<>(name, type);
  }

  /** @return the descriptive name */
  public String name() {
    return name;
  }

  /** @return the type of the value */
  public Class<T> type() {
    return type;
  }

  T cast(Object value) {
    return type.cast(value);
  }

  @Override
  public String toString() {
    return "Attribute[" + name + "]";
  }
}
