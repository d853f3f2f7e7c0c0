package org.glmmaas.worker.scheduler;

/** The queue is full; the caller should retry later (or elsewhere). */
public class OverloadedException extends RuntimeException {

  public OverloadedException(String message) {
    super(message);
  }
}
