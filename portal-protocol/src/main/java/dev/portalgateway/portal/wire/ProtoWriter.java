package dev.portalgateway.portal.wire;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Builds one protobuf message field by field, following the proto3 rule that a singular scalar
 * equal to its default (0, empty string, empty bytes) is not written at all. Fields must be
 * written in field-number order to match the Go encoder byte for byte.
 */
public final class ProtoWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** A varint field (int64, enum, bool); omitted when zero. */
  public ProtoWriter varint(int field, long value) {
    if (value != 0) {
      writeTag(field, ProtoReader.VARINT);
      writeRawVarint(value);
    }
    return this;
  }

  /** A string field; omitted when null or empty. */
  public ProtoWriter string(int field, String value) {
    if (value != null && !value.isEmpty()) {
      writeLengthDelimited(field, value.getBytes(StandardCharsets.UTF_8));
    }
    return this;
  }

  /** A bytes field; omitted when null or empty. */
  public ProtoWriter bytes(int field, byte[] value) {
    if (value != null && value.length > 0) {
      writeLengthDelimited(field, value);
    }
    return this;
  }

  /**
   * An embedded message field. Presence is what matters for messages: a non-null message is
   * written even when its own encoding is empty, a null one is omitted.
   */
  public ProtoWriter message(int field, ProtoMessage value) {
    if (value != null) {
      writeLengthDelimited(field, value.encode());
    }
    return this;
  }

  /** A repeated string field: every element is written, empty ones included. */
  public ProtoWriter repeatedString(int field, List<String> values) {
    for (String value : values) {
      writeLengthDelimited(field, value.getBytes(StandardCharsets.UTF_8));
    }
    return this;
  }

  /** A repeated message field: every element is written, empty ones included. */
  public ProtoWriter repeatedMessage(int field, List<? extends ProtoMessage> values) {
    for (ProtoMessage value : values) {
      writeLengthDelimited(field, value.encode());
    }
    return this;
  }

  /** The bytes written so far. */
  public byte[] toByteArray() {
    return out.toByteArray();
  }

  private void writeLengthDelimited(int field, byte[] value) {
    writeTag(field, ProtoReader.LEN);
    writeRawVarint(value.length);
    out.writeBytes(value);
  }

  private void writeTag(int field, int wireType) {
    writeRawVarint(((long) field << 3) | wireType);
  }

  private void writeRawVarint(long value) {
    // Negative int64 values take all ten bytes, as in every protobuf implementation.
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
  }
}
