package org.glmmaas.worker.scheduler;

/**
 * Receives a request's outputs, on the engine thread: implementations must return quickly and never
 * block (buffer and hand over to another thread).
 */
@FunctionalInterface
public interface RequestOutputSink {

  void onOutput(RequestOutput output);

  /**
   * The scheduler planned this request's prefill for the first time ({@code queued} after it
   * arrived). Called at most once per request, before any output; never again after a preemption.
   */
  default void onScheduled(java.time.Duration queued) {}
}
