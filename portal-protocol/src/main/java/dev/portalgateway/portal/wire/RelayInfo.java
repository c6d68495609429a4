package dev.portalgateway.portal.wire;

import static dev.portalgateway.portal.wire.ProtoReader.LEN;

import java.util.ArrayList;
import java.util.List;

/**
 * What a relay says about itself: its identity, the addresses it is reachable at and the leases
 * currently registered with it.
 *
 * @param identity the relay's identity; null when absent
 * @param address  the relay's addresses
 * @param leases   the live leases
 */
public record RelayInfo(Identity identity, List<String> address, List<Lease> leases) implements ProtoMessage {

  public RelayInfo {
    address = List.copyOf(address);
    leases = List.copyOf(leases);
  }

  @Override
  public byte[] encode() {
    return new ProtoWriter()
        .message(1, identity)
        .repeatedString(2, address)
        .repeatedMessage(3, leases)
        .toByteArray();
  }

  /** Decodes a RelayInfo message. */
  public static RelayInfo decode(byte[] bytes) throws WireFormatException {
    Identity identity = null;
    List<String> address = new ArrayList<>();
    List<Lease> leases = new ArrayList<>();
    ProtoReader r = new ProtoReader(bytes);
    while (r.hasNext()) {
      switch (r.readTag()) {
        case 1 << 3 | LEN -> identity = Identity.decode(r.readBytes());
        case 2 << 3 | LEN -> address.add(r.readString());
        case 3 << 3 | LEN -> leases.add(Lease.decode(r.readBytes()));
        default -> r.skip();
      }
    }
    return new RelayInfo(identity, address, leases);
  }
}
