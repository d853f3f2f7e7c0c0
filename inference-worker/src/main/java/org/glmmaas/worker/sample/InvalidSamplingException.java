package org.glmmaas.worker.sample;

/**
 * A sampling parameter outside its allowed range; the message names the parameter and the range.
 */
public class InvalidSamplingException extends IllegalArgumentException {

  private final String parameter;

  public InvalidSamplingException(String parameter, String message) {
    super(message);
    this.parameter = parameter;
  }

  /** The request field at fault, as the API spells it (e.g. "top_p"). */
  public String parameter() {
    return parameter;
  }
}
