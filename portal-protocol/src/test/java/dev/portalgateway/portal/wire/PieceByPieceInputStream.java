package dev.portalgateway.portal.wire;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Random;

/**
 * Delivers a byte array in pieces of random size (1 to {@code maxPiece} bytes per read), the way
 * a WebSocket or yamux stream may split data anywhere.
 */
public final class PieceByPieceInputStream extends InputStream {
  private final ByteArrayInputStream source;
  private final Random random;
  private final int maxPiece;

  public PieceByPieceInputStream(byte[] data, int maxPiece, long seed) {
    this.source = new ByteArrayInputStream(data);
    this.random = new Random(seed);
    this.maxPiece = maxPiece;
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
    return source.read(b, off, Math.min(len, 1 + random.nextInt(maxPiece)));
  }
}
