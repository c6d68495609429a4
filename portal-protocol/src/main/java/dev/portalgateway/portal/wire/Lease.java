package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;
import static dev.portalgateway.portal.wire.ProtoReader.VARINT;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A service registered with the relay under its holder's identity.
 *
 * @param identity the lease holder's identity (its ID is the lease ID); null when absent
 * @param expires  expiry, Unix seconds
 * @param name     the human-facing name, unique among live leases
 * @param alpn     the application protocols the holder accepts
 * @param metadata free-form metadata
 */
public record Lease(Identity identity, long expires, String name, List<String> alpn, String metadata)
    implements ProtoMessage {

  public Lease {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(metadata, "metadata");
    alpn = List.copyOf(alpn);
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter()
        .message(1, identity)
        .varint(2, expires)
        .string(3, name)
        .repeatedString(4, alpn)
        .string(5, metadata)
        .toByteArray();
  }

  /** Decodes a Lease message. */
  public static Lease decode(byte[] bytes) throws WireFormatException {
    Identity identity = null;
    long expires = 0;
    String name = "";
    List<String> alpn = new ArrayList<>();
    String metadata = "";
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> identity = Identity.decode(r.readBytes());
        case 2 << 3 | VARINT -> expires = r.readVarint();
        case 3 << 3 | LEN -> name = r.readString();
        case 4 << 3 | LEN -> alpn.add(r.readString());
        case 5 << 3 | LEN -> metadata = r.readString();
        default -> r.skip();
      }
    }
    return new Lease(identity, expires, name, alpn, metadata);
  }
}
