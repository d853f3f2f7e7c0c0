package org.glmmaas.worker.api;

import java.util.List;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.glmmaas.worker.sample.SamplingConfig;

/** Checks a request's sampling parameters and turns them into a {@link SamplingConfig}. */
final class SamplingParamsValidator {

  private SamplingParamsValidator() {}

  /**
   * @param maxNewTokens tokens left in the context after the prompt (the max_tokens default)
   * @throws GlmStatusException INVALID_REQUEST naming the parameter and its allowed range
   */
  static SamplingConfig toConfig(SamplingParams p, int maxNewTokens) {
    float temperature = p.hasTemperature() ? p.getTemperature() : 1f;
    check(
        Float.isFinite(temperature) && temperature >= 0f && temperature <= 100f,
        "temperature must be in [0, 100], got " + temperature);
    float topP = p.hasTopP() ? p.getTopP() : 1f;
    check(topP > 0f && topP <= 1f, "top_p must be in (0, 1], got " + topP);
    int topK = p.hasTopK() ? p.getTopK() : 0;
    check(topK >= 0, "top_k must be >= 0, got " + topK);
    float minP = p.hasMinP() ? p.getMinP() : 0f;
    check(minP >= 0f && minP <= 1f, "min_p must be in [0, 1], got " + minP);
    float rep = p.hasRepetitionPenalty() ? p.getRepetitionPenalty() : 1f;
    check(Float.isFinite(rep) && rep > 0f, "repetition_penalty must be > 0, got " + rep);
    float presence = p.hasPresencePenalty() ? p.getPresencePenalty() : 0f;
    check(
        presence >= -2f && presence <= 2f, "presence_penalty must be in [-2, 2], got " + presence);
    float frequency = p.hasFrequencyPenalty() ? p.getFrequencyPenalty() : 0f;
    check(
        frequency >= -2f && frequency <= 2f,
        "frequency_penalty must be in [-2, 2], got " + frequency);
    int maxTokens = p.hasMaxTokens() ? p.getMaxTokens() : 0;
    check(maxTokens >= 0, "max_tokens must be >= 0, got " + maxTokens);
    check(
        p.getTopLogprobs() >= 0 && p.getTopLogprobs() <= 20,
        "top_logprobs must be in [0, 20], got " + p.getTopLogprobs());
    check(p.getStopCount() <= 16, "at most 16 stop strings, got " + p.getStopCount());
    for (String s : p.getStopList()) {
      check(!s.isEmpty(), "stop strings must not be empty");
      check(s.length() <= 256, "stop strings must be at most 256 characters");
    }
    boolean doSample = !p.hasDoSample() || p.getDoSample();
    long seed = p.hasSeed() ? p.getSeed() : System.nanoTime();
    if (maxTokens == 0) {
      maxTokens = maxNewTokens;
    }
    return new SamplingConfig(
        temperature,
        topP,
        topK,
        minP,
        rep,
        presence,
        frequency,
        doSample,
        seed,
        maxTokens,
        List.copyOf(p.getStopList()),
        p.getIgnoreEos(),
        p.getLogprobs() || p.getTopLogprobs() > 0,
        p.getTopLogprobs());
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw GlmStatusException.invalid(message);
    }
  }
}
