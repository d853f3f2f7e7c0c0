package org.glmmaas.auth.credential;

import org.glmmaas.proto.auth.v1.AuthFailureReason;

/** A credential refused for a precise reason; the message never contains the secret. */
public final class CredentialException extends Exception {

  private final AuthFailureReason reason;

  public CredentialException(AuthFailureReason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public AuthFailureReason reason() {
    return reason;
  }
}
