package org.glmmaas.worker.scheduler;

/**
 * The scheduler's limits, vLLM's names.
 *
 * @param maxNumSeqs sequences per engine step at most
 * @param maxNumBatchedTokens tokens per engine step at most
 * @param maxModelLen prompt plus generated tokens of one sequence at most
 * @param maxWaiting queued requests at most; more are refused as overloaded
 */
public record SchedulerConfig(
    int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen, int maxWaiting) {

  public SchedulerConfig {
    if (maxNumSeqs < 1) {
      throw new IllegalArgumentException("max-num-seqs must be >= 1, got " + maxNumSeqs);
    }
    if (maxNumBatchedTokens < maxNumSeqs) {
      throw new IllegalArgumentException(
          "max-num-batched-tokens ("
              + maxNumBatchedTokens
              + ") must be >= max-num-seqs ("
              + maxNumSeqs
              + ") so every running sequence can decode");
    }
    if (maxModelLen < 2) {
      throw new IllegalArgumentException("max-model-len must be >= 2, got " + maxModelLen);
    }
    if (maxWaiting < 1) {
      throw new IllegalArgumentException("max-waiting must be >= 1, got " + maxWaiting);
    }
  }
}
