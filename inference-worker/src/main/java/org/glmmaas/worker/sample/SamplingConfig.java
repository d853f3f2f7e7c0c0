package org.glmmaas.worker.sample;

import java.util.List;

/**
 * Validated sampling parameters of one request. {@code temperature == 0} or {@code !doSample} means
 * greedy (ties go to the lowest id, as in the reference goldens).
 *
 * @param temperature >= 0
 * @param topP in (0, 1]
 * @param topK 0 = off
 * @param minP in [0, 1], 0 = off
 * @param repetitionPenalty > 0, 1 = off (multiplicative, over prompt and generated tokens)
 * @param presencePenalty in [-2, 2], 0 = off (additive, generated tokens)
 * @param frequencyPenalty in [-2, 2], 0 = off (additive per occurrence, generated tokens)
 * @param seed seed of this request's random stream
 * @param maxTokens generated tokens at most
 * @param stop stop strings
 * @param ignoreEos keep going past end-of-generation tokens
 * @param logprobs return the chosen token's logprob
 * @param topLogprobs alternatives per position, 0..20
 */
public record SamplingConfig(
    float temperature,
    float topP,
    int topK,
    float minP,
    float repetitionPenalty,
    float presencePenalty,
    float frequencyPenalty,
    boolean doSample,
    long seed,
    int maxTokens,
    List<String> stop,
    boolean ignoreEos,
    boolean logprobs,
    int topLogprobs) {

  public boolean greedy() {
    return !doSample || temperature == 0f;
  }
}
