package org.glmmaas.worker.usage;

/** The spool reached {@code glm.worker.usage.spool-max-size}; the record was NOT stored. */
public class SpoolFullException extends RuntimeException {

  public SpoolFullException(String message) {
    super(message);
  }
}
