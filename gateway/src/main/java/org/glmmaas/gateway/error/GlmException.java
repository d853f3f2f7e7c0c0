package org.glmmaas.gateway.error;

/** Carries a {@link GlmError} through reactive pipelines; no stack trace (it is never shown). */
public final class GlmException extends RuntimeException {

  private final transient GlmError error;

  public GlmException(GlmError error) {
    super(error.message(), null, false, false);
    this.error = error;
  }

  public GlmError error() {
    return error;
  }

  public static GlmException invalid(String message, String param) {
    return new GlmException(new GlmError.InvalidRequest(message, param));
  }
}
