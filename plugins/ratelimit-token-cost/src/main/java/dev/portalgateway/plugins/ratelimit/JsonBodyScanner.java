package dev.portalgateway.plugins.ratelimit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Reads usage from a whole JSON body: keeps a side copy of the bytes as they pass, up to a cap,
 * and parses it at the end. A body longer than the cap is not read (there is no usage to find in
 * a body too long to hold), so memory per response stays bounded.
 *
 * <p>A gzip body (an upstream that honoured the client's {@code Accept-Encoding}) is recognised
 * by its magic bytes, which no JSON text starts with, and inflated up to the same cap. Not
 * thread-safe.
 */
final class JsonBodyScanner implements ResponseScanner {
  private final int maxBytes;
  private final UsageTally tally = new UsageTally();
  private ByteQueue copy = new ByteQueue();

  /** @param maxBytes the longest body read for usage */
  JsonBodyScanner(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public void scan(byte[] b, int off, int len, ByteQueue out) {
    if (out != null) {
      out.append(b, off, len);
    }
    if (copy == null) {
      return;
    }
    if (copy.size() + len > maxBytes) {
      copy = null; // too long: give up, and let the copy go
      return;
    }
    copy.append(b, off, len);
  }

  @Override
  public void end(ByteQueue out) {
    if (copy == null) {
      return;
    }
    byte[] a = copy.array();
    int start = copy.start();
    int n = copy.size();
    if (n >= 2 && a[start] == (byte) 0x1f && a[start + 1] == (byte) 0x8b) {
      byte[] inflated = inflate(a, start, n);
      if (inflated == null) {
        copy = null;
        return;
      }
      a = inflated;
      start = 0;
      n = inflated.length;
    }
    tally.absorb(UsageTally.parse(a, start, n));
    copy = null;
  }

  @Override
  public boolean transforming() {
    return false;
  }

  @Override
  public boolean hopeless() {
    return copy == null && tally.usage(null) == null;
  }

  @Override
  public Usage usage(String fallbackModel) {
    return tally.usage(fallbackModel);
  }

  /** @return the inflated body, or {@code null} when it is broken or inflates beyond the cap */
  private byte[] inflate(byte[] a, int start, int n) {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(a, start, n))) {
      byte[] body = in.readNBytes(maxBytes + 1);
      return body.length > maxBytes ? null : body;
    } catch (IOException e) {
      return null;
    }
  }
}
