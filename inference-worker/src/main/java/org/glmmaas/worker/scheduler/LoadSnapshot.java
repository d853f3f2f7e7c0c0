package org.glmmaas.worker.scheduler;

/**
 * The engine loop's state after its last step, for load reports, metrics and probes.
 *
 * @param numRunning sequences being prefilled or decoded
 * @param numWaiting requests queued (including ones not yet picked up by the loop)
 * @param numKvBlocksFree KV blocks with no reference
 * @param numKvBlocksTotal KV blocks in the pool
 * @param prefixCacheQueries prompt blocks looked up since start
 * @param prefixCacheHits prompt blocks found since start
 * @param numSteps engine steps since start
 * @param meanStepTimeMs mean step time over the recent steps, ms
 * @param lastProgressNanos System.nanoTime() when the loop last completed an iteration
 */
public record LoadSnapshot(
    int numRunning,
    int numWaiting,
    int numKvBlocksFree,
    int numKvBlocksTotal,
    long prefixCacheQueries,
    long prefixCacheHits,
    long numSteps,
    double meanStepTimeMs,
    long lastProgressNanos) {

  public double kvCacheUsage() {
    return numKvBlocksTotal == 0 ? 0 : 1.0 - (double) numKvBlocksFree / numKvBlocksTotal;
  }
}
