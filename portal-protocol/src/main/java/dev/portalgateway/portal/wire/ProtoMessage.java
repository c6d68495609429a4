package dev.portalgateway.portal.wire;

/** A Portal v1 protobuf message that can encode itself to its proto3 wire form. */
public interface ProtoMessage {

  /** The proto3 encoding of this message; an all-default message encodes to zero bytes. */
  byte[] encode();
}
