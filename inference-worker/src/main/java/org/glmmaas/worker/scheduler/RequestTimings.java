package org.glmmaas.worker.scheduler;

import java.time.Duration;

/**
 * Where a request's time went.
 *
 * @param queue arrival to first scheduling
 * @param prefill first scheduling to the end of prompt processing
 * @param decode end of prompt processing to the last token
 * @param timeToFirstToken arrival to the first generated token (zero when none)
 * @param total arrival to finish
 * @param numPreemptions times it was preempted and recomputed
 */
public record RequestTimings(
    Duration queue,
    Duration prefill,
    Duration decode,
    Duration timeToFirstToken,
    Duration total,
    int numPreemptions) {}
