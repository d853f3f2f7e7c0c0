package org.glmmaas.worker.scheduler;

/**
 * The end of a request.
 *
 * @param reason why it ended
 * @param matchedStop the stop string that ended it, or null
 * @param errorMessage for ERROR: what failed (never prompt text), else null
 * @param numPromptTokens prompt tokens, including cached ones
 * @param numCachedTokens prompt tokens served from the prefix cache
 * @param numCompletionTokens generated tokens
 * @param consumedEngineWork whether any of its tokens went through the engine (billable)
 * @param timings where its time went
 */
public record FinishInfo(
    FinishReason reason,
    String matchedStop,
    String errorMessage,
    int numPromptTokens,
    int numCachedTokens,
    int numCompletionTokens,
    boolean consumedEngineWork,
    RequestTimings timings) {}
