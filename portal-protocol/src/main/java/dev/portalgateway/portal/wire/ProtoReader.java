package dev.portalgateway.portal.wire;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the fields of one protobuf message in order. The usual loop is
 * {@code while (r.hasNext()) { switch (r.readTag()) { case ... -> ...; default -> r.skip(); } } }
 * where the cases are full tags ({@code field << 3 | wireType}), so a known field number that
 * arrives with an unexpected wire type is skipped like an unknown field, as protobuf-go does.
 */
public final class ProtoReader {
  /** Wire type of varints (int32, int64, enum, bool). */
  public static final int VARINT = 0;
  /** Wire type of fixed 64-bit values. */
  public static final int I64 = 1;
  /** Wire type of length-delimited values (string, bytes, messages). */
  public static final int LEN = 2;
  /** Wire type of fixed 32-bit values. */
  public static final int I32 = 5;

  private final byte[] buffer;
  private int position;
  private int lastTag;

  public ProtoReader(byte[] buffer) {
    this.buffer = buffer;
  }

  /** Whether any bytes are left. */
  public boolean hasNext() {
    return position < buffer.length;
  }

  /** Reads the next field's tag ({@code field << 3 | wireType}). */
  public int readTag() throws WireFormatException {
    long tag = readVarint();
    // Field numbers are 1 .. 2^29-1, so a valid tag always fits in 32 bits. Compared unsigned:
    // a ten-byte varint can set bit 63, and a signed compare let such a "negative" tag through
    // (WireFuzzTest.protoReader found it).
    if (tag >>> 3 == 0 || Long.compareUnsigned(tag, 0xFFFF_FFFFL) > 0) {
      throw new WireFormatException("invalid field tag " + tag);
    }
    lastTag = (int) tag;
    return lastTag;
  }

  /** Reads a varint value. */
  public long readVarint() throws WireFormatException {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position >= buffer.length) {
        throw new WireFormatException("truncated varint");
      }
      int b = buffer[position++] & 0xFF;
      if (shift == 63 && b > 1) {
        // The tenth byte holds only bit 63; protobuf-go refuses more as an overflow, and so do we.
        throw new WireFormatException("varint overflows 64 bits");
      }
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new WireFormatException("varint longer than ten bytes");
  }

  /** Reads a varint that must fit an int (enum values). */
  public int readEnum() throws WireFormatException {
    return (int) readVarint();
  }

  /** Reads a length-delimited value as bytes. */
  public byte[] readBytes() throws WireFormatException {
    long length = readVarint();
    if (length < 0 || length > buffer.length - position) {
      throw new WireFormatException("length " + length + " runs past the end of the message");
    }
    byte[] value = Arrays.copyOfRange(buffer, position, position + (int) length);
    position += (int) length;
    return value;
  }

  /** Reads a length-delimited value as a UTF-8 string; proto3 rejects invalid UTF-8. */
  public String readString() throws WireFormatException {
    byte[] raw = readBytes();
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(raw))
          .toString();
    } catch (CharacterCodingException e) {
      throw new WireFormatException("string field is not valid UTF-8");
    }
  }

  /** Skips the value of the field whose tag was read last. */
  public void skip() throws WireFormatException {
    switch (lastTag & 7) {
      case VARINT -> readVarint();
      case I64 -> advance(8);
      case LEN -> readBytes();
      case I32 -> advance(4);
      default -> throw new WireFormatException("unsupported wire type " + (lastTag & 7));
    }
  }

  private void advance(int count) throws WireFormatException {
    if (count > buffer.length - position) {
      throw new WireFormatException("truncated fixed-width field");
    }
    position += count;
  }
}
