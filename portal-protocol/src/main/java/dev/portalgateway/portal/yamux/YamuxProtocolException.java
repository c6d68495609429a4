package dev.portalgateway.portal.yamux;

import java.io.IOException;

/** The peer broke the yamux protocol; the session answers with GoAway(protocol error) and closes. */
public class YamuxProtocolException extends IOException {
  public YamuxProtocolException(String message) {
    super(message);
  }
}
