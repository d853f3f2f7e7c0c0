package org.glmmaas.worker.scheduler;

/** Where a request is in its life, vLLM's names. */
public enum RequestStatus {
  WAITING,
  RUNNING,
  PREEMPTED,
  FINISHED;
}
