package dev.portalgateway.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An immutable list of HTTP header fields. Names compare case-insensitively (RFC 9110 §5.1);
 * order and repeated fields are kept as received.
 *
 * <p>Stored as a flat name/value array: requests carry a few dozen fields at most, and a linear
 * scan over them is cheaper than building a hash map for every request.
 */
public final class Headers {
  private static final Headers EMPTY = new Headers(new String[0]);

  /** name0, value0, name1, value1, ... */
  private final String[] pairs;

  private Headers(String[] pairs) {
    this.pairs = pairs;
  }

  /** @return headers with no fields */
  public static Headers empty() {
    return EMPTY;
  }

  /**
   * @param namesAndValues alternating names and values
   * @return headers with these fields, in order
   */
  public static Headers of(String... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("expected name/value pairs, got an odd count");
    }
    Builder b = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      b.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return b.build();
  }

  /** @return a builder for new headers */
  public static Builder builder() {
    return new Builder(new String[16], 0);
  }

  /** @return a builder that starts from these headers */
  public Builder toBuilder() {
    return new Builder(Arrays.copyOf(pairs, Math.max(16, pairs.length + 8)), pairs.length);
  }

  /**
   * @param name a field name, any case
   * @return the first value of the field, or {@code null} when absent
   */
  public String first(String name) {
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i].equalsIgnoreCase(name)) {
        return pairs[i + 1];
      }
    }
    return null;
  }

  /**
   * @param name a field name, any case
   * @return every value of the field, in order; empty when absent
   */
  public List<String> all(String name) {
    List<String> values = null;
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i].equalsIgnoreCase(name)) {
        if (values == null) {
          values = new ArrayList<>(2);
        }
        values.add(pairs[i + 1]);
      }
    }
    return values == null ? List.of() : Collections.unmodifiableList(values);
  }

  /** @return whether the field is present */
  public boolean contains(String name) {
    return first(name) != null;
  }

  /** @return the distinct field names, in first-seen order and as first spelled */
  public Set<String> names() {
    Set<String> lower = new LinkedHashSet<>();
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < pairs.length; i += 2) {
      if (lower.add(pairs[i].toLowerCase(java.util.Locale.ROOT))) {
        names.add(pairs[i]);
      }
    }
    return Collections.unmodifiableSet(names);
  }

  /** @return the number of fields (a repeated name counts each time) */
  public int size() {
    return pairs.length / 2;
  }

  /** @return the name of field {@code index} */
  public String name(int index) {
    return pairs[index * 2];
  }

  /** @return the value of field {@code index} */
  public String value(int index) {
    return pairs[index * 2 + 1];
  }

  /** Calls {@code action} with each field's name and value, in order. */
  public void forEach(BiConsumer<String, String> action) {
    for (int i = 0; i < pairs.length; i += 2) {
      action.accept(pairs[i], pairs[i + 1]);
    }
  }

  /** @return these headers with every field {@code name} replaced by one field with {@code value} */
  public Headers with(String name, String value) {
    return toBuilder().set(name, value).build();
  }

  /** @return these headers with one more field, after the others */
  public Headers plus(String name, String value) {
    return toBuilder().add(name, value).build();
  }

  /** @return these headers without any field {@code name} */
  public Headers without(String name) {
    return contains(name) ? toBuilder().remove(name).build() : this;
  }

  /** Equal when the same fields stand in the same order; names compare case-insensitively. */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Headers h) || h.pairs.length != pairs.length) {
      return false;
    }
    for (int i = 0; i < pairs.length; i += 2) {
      if (!pairs[i].equalsIgnoreCase(h.pairs[i]) || !pairs[i + 1].equals(h.pairs[i + 1])) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int hash = 1;
    for (int i = 0; i < pairs.length; i += 2) {
      hash = 31 * hash + pairs[i].toLowerCase(java.util.Locale.ROOT).hashCode();
      hash = 31 * hash + pairs[i + 1].hashCode();
    }
    return hash;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Headers[");
    for (int i = 0; i < pairs.length; i += 2) {
      sb.append(i == 0 ? "" : ", ").append(pairs[i]).append(": ").append(pairs[i + 1]);
    }
    return sb.append(']').toString();
  }

  /** A mutable builder of {@link Headers}; not thread-safe. */
  public static final class Builder {
    private String[] pairs;
    private int length;

    private Builder(String[] pairs, int length) {
      this.pairs = pairs;
      this.length = length;
    }

    /**
     * Adds a field after the others, keeping any existing field of the same name.
     *
     * @throws IllegalArgumentException when the name is not an HTTP token or the value holds a
     *     CR, LF or NUL: such a value would start a new header line (response splitting)
     */
    public Builder add(String name, String value) {
      checkName(name);
      checkValue(name, value);
      if (length + 2 > pairs.length) {
        pairs = Arrays.copyOf(pairs, pairs.length * 2 + 2);
      }
      pairs[length++] = name;
      pairs[length++] = value;
      return this;
    }

    /** Replaces every field {@code name} with one field holding {@code value}. */
    public Builder set(String name, String value) {
      return remove(name).add(name, value);
    }

    /** Removes every field {@code name}. */
    public Builder remove(String name) {
      int w = 0;
      for (int r = 0; r < length; r += 2) {
        if (!pairs[r].equalsIgnoreCase(name)) {
          pairs[w++] = pairs[r];
          pairs[w++] = pairs[r + 1];
        }
      }
      Arrays.fill(pairs, w, length, null);
      length = w;
      return this;
    }

    /** @return the first value of {@code name} added so far, or {@code null} */
    public String first(String name) {
      for (int i = 0; i < length; i += 2) {
        if (pairs[i].equalsIgnoreCase(name)) {
          return pairs[i + 1];
        }
      }
      return null;
    }

    /** @return the headers built so far */
    public Headers build() {
      return length == 0 ? EMPTY : new Headers(Arrays.copyOf(pairs, length));
    }

    private static void checkName(String name) {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("header name is empty");
      }
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        if (c >= TOKEN.length || !TOKEN[c]) {
          throw new IllegalArgumentException("header name '" + name + "' is not an HTTP token");
        }
      }
    }

    private static void checkValue(String name, String value) {
      if (value == null) {
        throw new IllegalArgumentException("header " + name + " has a null value");
      }
      // String.indexOf is vectorised; every field of every request passes through here.
      if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf(0) >= 0) {
        throw new IllegalArgumentException("the value of header " + name + " holds a line break or NUL");
      }
    }

    /** The characters of an HTTP token (RFC 9110 §5.6.2), by code point. */
    private static final boolean[] TOKEN = new boolean[128];

    static {
      for (char c = 'a'; c <= 'z'; c++) {
        TOKEN[c] = true;
        TOKEN[Character.toUpperCase(c)] = true;
      }
      for (char c = '0'; c <= '9'; c++) {
        TOKEN[c] = true;
      }
      for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
        TOKEN[c] = true;
      }
    }
  }
}
