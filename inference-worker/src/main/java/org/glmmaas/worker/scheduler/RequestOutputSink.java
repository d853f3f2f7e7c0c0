package org.glmmaas.worker.scheduler;

/**
 * Receives a request's outputs, on the engine thread: implementations must return quickly and never
 * block (buffer and hand over to another thread).
 */
@FunctionalInterface
public interface RequestOutputSink {

  void onOutput(RequestOutput output);
}
