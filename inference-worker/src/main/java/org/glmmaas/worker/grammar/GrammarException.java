package org.glmmaas.worker.grammar;

/**
 * A schema the grammar engine cannot compile: malformed, or using an unsupported construct. Maps to
 * gRPC INVALID_ARGUMENT (ErrorInfo reason INVALID_REQUEST) with metadata {@code param} and {@code
 * construct}.
 */
public final class GrammarException extends RuntimeException {

  private final String param;
  private final String construct;

  /**
   * @param construct the schema construct at fault, e.g. {@code "patternProperties"} or {@code
   *     "/properties/a/minimum"}
   */
  public GrammarException(String construct, String message) {
    this(null, construct, message);
  }

  private GrammarException(String param, String construct, String message) {
    super(message);
    this.param = param;
    this.construct = construct;
  }

  /** The request parameter the schema came from, e.g. {@code response_format}; null if unknown. */
  public String param() {
    return param;
  }

  public String construct() {
    return construct;
  }

  /** This error attributed to the request parameter {@code param}. */
  public GrammarException atParam(String param) {
    GrammarException e = new GrammarException(param, construct, getMessage());
    e.setStackTrace(getStackTrace());
    return e;
  }
}
