package dev.portalgateway.plugins.ratelimit;

/**
 * Looks for usage in a response body as its bytes pass, for {@link UsageMeter}. One scanner per
 * stream; called by one thread at a time, never concurrently.
 */
interface ResponseScanner {

  /**
   * Sees the next bytes of the body.
   *
   * @param out where to put the bytes the reader should get, while {@link #transforming()}; when
   *     {@code null} the bytes reach the reader as they are (or nobody reads them: a drain)
   */
  void scan(byte[] b, int off, int len, ByteQueue out);

  /**
   * The body ended: finishes what is half seen.
   *
   * @param out where to put bytes still held back, or {@code null} to drop them
   */
  void end(ByteQueue out);

  /** @return whether bytes must pass through {@link #scan}'s {@code out} (it may hold some back) */
  boolean transforming();

  /** @return whether no usage can be found any more, so there is no point reading on for it */
  boolean hopeless();

  /** @return the usage seen so far, or {@code null}; see {@link UsageTally#usage} */
  Usage usage(String fallbackModel);

  /** A body that cannot carry usage the meter can read: bytes pass, nothing is looked for. */
  ResponseScanner NONE = new ResponseScanner() {
    @Override
    public void scan(byte[] b, int off, int len, ByteQueue out) {
      if (out != null) {
        out.append(b, off, len);
      }
    }

    @Override
    public void end(ByteQueue out) {}

    @Override
    public boolean transforming() {
      return false;
    }

    @Override
    public boolean hopeless() {
      return true;
    }

    @Override
    public Usage usage(String fallbackModel) {
      return null;
    }
  };
}
