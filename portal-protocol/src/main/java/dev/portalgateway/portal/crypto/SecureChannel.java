package dev.portalgateway.portal.crypto;

import dev.portalgateway.portal.wire.Identity;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.function.Supplier;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An established E2EE session: an {@link InputStream} and an {@link OutputStream} over the raw
 * spliced stream, carrying {@code u32 BE L | 12-byte nonce | ChaCha20-Poly1305(plaintext)} frames
 * with {@code L = 12 + len + 16 <= 64 MiB}. Each direction has its own key and every frame a fresh
 * random nonce.
 *
 * <p>The input and output may be used from two different threads. Every {@code write} call
 * becomes at least one frame, so wrap the output in a {@link java.io.BufferedOutputStream} when
 * writing many small pieces.
 */
public final class SecureChannel implements Closeable {
  /** The largest encrypted frame body, {@code L}: 64 MiB. */
  public static final int MAX_FRAME_LENGTH = 64 << 20;
  /** The largest plaintext put into one frame; larger writes are split. */
  public static final int MAX_PLAINTEXT_PER_FRAME = 32 << 20;

  private static final int NONCE_LENGTH = 12;
  private static final int TAG_LENGTH = 16;

  /**
   * The largest frame read: what a writer that splits at {@link #MAX_PLAINTEXT_PER_FRAME} (ours and
   * Portal's) produces. A frame can only be authenticated once all of it is in memory, so a longer
   * one, which no honest peer sends, is refused as soon as its length arrives rather than buffered
   * to the protocol's 64 MiB ceiling by a relay that wants to use up the gateway's memory.
   */
  static final int MAX_READ_FRAME_LENGTH = NONCE_LENGTH + MAX_PLAINTEXT_PER_FRAME + TAG_LENGTH;

  private final Identity peerIdentity;
  private final String alpn;
  private final DecryptingInput input;
  private final EncryptingOutput output;

  /**
   * A channel over {@code rawIn}/{@code rawOut} after a handshake.
   *
   * @param readKey      the key the peer encrypts with
   * @param writeKey     the key we encrypt with
   * @param peerIdentity the authenticated peer
   * @param alpn         the agreed application protocol
   */
  public SecureChannel(InputStream rawIn, OutputStream rawOut, byte[] readKey, byte[] writeKey,
      Identity peerIdentity, String alpn) {
    this(rawIn, rawOut, readKey, writeKey, peerIdentity, alpn, randomNonces(new SecureRandom()));
  }

  /** As the public constructor, with a nonce source; tests use it to reproduce known frames. */
  SecureChannel(InputStream rawIn, OutputStream rawOut, byte[] readKey, byte[] writeKey, Identity peerIdentity,
      String alpn, Supplier<byte[]> nonces) {
    this.peerIdentity = peerIdentity;
    this.alpn = alpn;
    this.input = new DecryptingInput(Objects.requireNonNull(rawIn, "rawIn"), key(readKey));
    this.output = new EncryptingOutput(Objects.requireNonNull(rawOut, "rawOut"), key(writeKey), nonces);
  }

  /** The decrypted bytes from the peer. Closing it closes the raw input. */
  public InputStream input() {
    return input;
  }

  /** Encrypts what is written to it toward the peer. Closing it closes the raw output. */
  public OutputStream output() {
    return output;
  }

  /** The peer's authenticated identity. */
  public Identity peerIdentity() {
    return peerIdentity;
  }

  /** The agreed ALPN. */
  public String alpn() {
    return alpn;
  }

  /** Closes both directions. */
  @Override
  public void close() throws IOException {
    try {
      output.close();
    } finally {
      input.close();
    }
  }

  private static SecretKeySpec key(byte[] raw) {
    if (raw.length != 32) {
      throw new IllegalArgumentException("a ChaCha20-Poly1305 key is 32 bytes, got " + raw.length);
    }
    return new SecretKeySpec(raw, "ChaCha20");
  }

  private static Supplier<byte[]> randomNonces(SecureRandom random) {
    return () -> {
      byte[] nonce = new byte[NONCE_LENGTH];
      random.nextBytes(nonce);
      return nonce;
    };
  }

  private static Cipher newCipher() {
    try {
      return Cipher.getInstance("ChaCha20-Poly1305");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ChaCha20-Poly1305 is part of every JDK", e);
    }
  }

  /** Reads frames, decrypts them and hands out the plaintext, keeping what a read did not take. */
  private static final class DecryptingInput extends InputStream {
    private final InputStream raw;
    private final SecretKeySpec key;
    private final Cipher cipher = newCipher();
    private byte[] plaintext = new byte[0];
    private int position;
    private IOException failure;
    private boolean ended;

    DecryptingInput(InputStream raw, SecretKeySpec key) {
      this.raw = raw;
      this.key = key;
    }

    @Override
    public synchronized int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      // A frame may hold no plaintext at all, so keep reading until one does.
      while (position == plaintext.length) {
        if (!nextFrame()) {
          return -1;
        }
      }
      int n = Math.min(len, plaintext.length - position);
      System.arraycopy(plaintext, position, b, off, n);
      position += n;
      return n;
    }

    @Override
    public synchronized int available() {
      return plaintext.length - position;
    }

    @Override
    public void close() throws IOException {
      raw.close();
    }

    private boolean nextFrame() throws IOException {
      if (failure != null) {
        // After a bad frame the stream position is meaningless; never resume from it.
        throw failure;
      }
      if (ended) {
        return false;
      }
      byte[] prefix = raw.readNBytes(4);
      if (prefix.length == 0) {
        ended = true;
        return false;
      }
      try {
        if (prefix.length < 4) {
          throw new EOFException("end of stream inside an encrypted frame's length");
        }
        long length = (prefix[0] & 0xFFL) << 24 | (prefix[1] & 0xFFL) << 16 | (prefix[2] & 0xFFL) << 8
            | (prefix[3] & 0xFFL);
        if (length > MAX_READ_FRAME_LENGTH || length < NONCE_LENGTH + TAG_LENGTH) {
          throw new IOException("invalid encrypted frame length " + length + " (at most " + MAX_READ_FRAME_LENGTH + ")");
        }
        byte[] frame = raw.readNBytes((int) length);
        if (frame.length < length) {
          throw new EOFException("end of stream inside an encrypted frame");
        }
        plaintext = decrypt(frame);
        position = 0;
        return true;
      } catch (IOException e) {
        failure = e;
        throw e;
      }
    }

    private byte[] decrypt(byte[] frame) throws IOException {
      try {
        cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(frame, 0, NONCE_LENGTH));
        return cipher.doFinal(frame, NONCE_LENGTH, frame.length - NONCE_LENGTH);
      } catch (AEADBadTagException e) {
        throw new IOException("encrypted frame failed authentication", e);
      } catch (GeneralSecurityException e) {
        throw new IOException("encrypted frame could not be decrypted", e);
      }
    }
  }

  /** Encrypts each write into one frame, or several of at most 32 MiB plaintext each. */
  private static final class EncryptingOutput extends OutputStream {
    private final OutputStream raw;
    private final SecretKeySpec key;
    private final Supplier<byte[]> nonces;
    private final Cipher cipher = newCipher();

    EncryptingOutput(OutputStream raw, SecretKeySpec key, Supplier<byte[]> nonces) {
      this.raw = raw;
      this.key = key;
      this.nonces = nonces;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      for (int done = 0; done < len; ) {
        int chunk = Math.min(MAX_PLAINTEXT_PER_FRAME, len - done);
        raw.write(encrypt(b, off + done, chunk));
        done += chunk;
      }
    }

    @Override
    public synchronized void flush() throws IOException {
      raw.flush();
    }

    @Override
    public synchronized void close() throws IOException {
      raw.close();
    }

    private byte[] encrypt(byte[] b, int off, int len) throws IOException {
      byte[] nonce = nonces.get();
      int bodyLength = NONCE_LENGTH + len + TAG_LENGTH;
      byte[] frame = new byte[4 + bodyLength];
      frame[0] = (byte) (bodyLength >>> 24);
      frame[1] = (byte) (bodyLength >>> 16);
      frame[2] = (byte) (bodyLength >>> 8);
      frame[3] = (byte) bodyLength;
      System.arraycopy(nonce, 0, frame, 4, NONCE_LENGTH);
      try {
        // A fresh init per frame: the JDK refuses to reuse a key and nonce on one Cipher,
        // and each frame has its own nonce anyway.
        cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(nonce));
        int written = cipher.doFinal(b, off, len, frame, 4 + NONCE_LENGTH);
        if (written != len + TAG_LENGTH) {
          throw new IOException("unexpected ciphertext length " + written);
        }
      } catch (GeneralSecurityException e) {
        throw new IOException("frame encryption failed", e);
      }
      return frame;
    }
  }
}
