package org.glmmaas.worker.scheduler;

import java.util.List;
import org.glmmaas.worker.engine.ForwardBatch;

/**
 * One step's plan: which requests run how many tokens, and the engine batch built from it.
 *
 * @param scheduled the requests of this step, in batch sequence order
 * @param batch the engine input, or null when nothing is scheduled
 * @param numPreempted requests preempted while forming this step
 */
public record SchedulerOutput(
    List<ScheduledRequest> scheduled, ForwardBatch batch, int numPreempted) {

  /**
   * @param request the request
   * @param numNewTokens tokens computed for it this step (a prefill chunk, or 1 to decode)
   * @param logitIndex index of its logits row in the engine's output, or -1 (a partial prefill)
   */
  public record ScheduledRequest(Request request, int numNewTokens, int logitIndex) {}

  public boolean isEmpty() {
    return scheduled.isEmpty();
  }

  public int numScheduledTokens() {
    return batch == null ? 0 : batch.numTokens();
  }
}
