package dev.portalgateway.host.front;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A response body as it goes out: of a stated length, chunked, until the connection closes (to
 * an HTTP/1.0 client), or none. Chunks are written as one buffered write each (size line, data,
 * CRLF), so a chunk never leaves as several small segments.
 */
abstract class ResponseBody extends OutputStream {
  /** Ends the body (the last chunk of a chunked one); does not close the connection. */
  abstract void finish() throws IOException;

  /** @return whether the body went out whole: not short of its stated length */
  abstract boolean complete();

  static ResponseBody none() {
    return new ResponseBody() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException("this response has no body (HEAD, 204, 304, or length -1)");
      }

      @Override
      void finish() {}

      @Override
      boolean complete() {
        return true;
      }
    };
  }

  static ResponseBody fixed(FrontExchange.ByteSink out, long length) {
    return new ResponseBody() {
      private long remaining = length;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (len > remaining) {
          throw new IOException("the response body is longer than its Content-Length of " + length);
        }
        out.write(b, off, len);
        remaining -= len;
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      public void close() throws IOException {
        out.flush();
      }

      @Override
      void finish() {}

      @Override
      boolean complete() {
        return remaining == 0;
      }
    };
  }

  static ResponseBody chunked(FrontExchange.ByteSink out) {
    return new ResponseBody() {
      private boolean finished;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (finished) {
          throw new IOException("the chunked body has ended");
        }
        if (len == 0) {
          return; // a zero-size chunk would end the body
        }
        out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b, off, len);
        out.write(FrontExchange.crlf());
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      public void close() throws IOException {
        finish();
        out.flush();
      }

      @Override
      void finish() throws IOException {
        if (!finished) {
          finished = true;
          out.write(LAST_CHUNK);
        }
      }

      @Override
      boolean complete() {
        return finished;
      }
    };
  }

  static ResponseBody untilClose(FrontExchange.ByteSink out) {
    return new ResponseBody() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      void finish() {}

      @Override
      boolean complete() {
        return true;
      }
    };
  }

  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
}
