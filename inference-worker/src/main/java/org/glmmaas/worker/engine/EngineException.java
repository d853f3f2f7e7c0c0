package org.glmmaas.worker.engine;

/** A failure reported by an engine; for the native engine it carries the native message. */
public class EngineException extends RuntimeException {

  public EngineException(String message) {
    super(message);
  }

  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
