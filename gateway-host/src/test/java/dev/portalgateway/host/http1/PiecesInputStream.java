package dev.portalgateway.host.http1;

import java.io.ByteArrayInputStream;
import java.io.InputStream;

/**
 * Hands out a byte array at most {@code piece} bytes per read, the way a socket may deliver a
 * request or response split anywhere. For fuzz targets, which check that a parser's result does
 * not depend on where its input was split.
 */
public final class PiecesInputStream extends InputStream {
  private final ByteArrayInputStream source;
  private final int piece;

  public PiecesInputStream(byte[] data, int off, int piece) {
    this.source = new ByteArrayInputStream(data, off, data.length - off);
    this.piece = Math.max(1, piece);
  }

  @Override
  public int read() {
    return source.read();
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (len == 0) {
      return 0;
    }
    return source.read(b, off, Math.min(len, piece));
  }

  @Override
  public int available() {
    return Math.min(source.available(), piece);
  }
}
