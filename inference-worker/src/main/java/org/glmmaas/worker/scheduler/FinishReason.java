package org.glmmaas.worker.scheduler;

/** Why a request ended; mirrors glm.inference.v1.FinishReason. */
public enum FinishReason {
  /** An end-of-generation token or a stop string. */
  STOP,
  /** max_tokens or the context length was reached. */
  LENGTH,
  /** The client cancelled. */
  CANCELLED,
  /** The request's deadline passed. */
  DEADLINE_EXCEEDED,
  /** The worker drained before the request finished. */
  ABORTED,
  /** The engine failed. */
  ERROR;

  /** The lower-case name used in usage events and metric labels. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
