package org.glmmaas.gateway.request;

import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.inference.v1.SamplingParams;
import tools.jackson.databind.JsonNode;

/** The sampling fields chat and completions share, read into the worker's SamplingParams. */
final class SamplingParser {

  /** Most choices one call may ask for (n); admission reserves tokens for all of them. */
  static final int MAX_N = 16;

  /** Most stop strings. */
  static final int MAX_STOP = 16;

  private SamplingParser() {}

  /**
   * Reads temperature, top_p, top_k, min_p, the penalties, seed, do_sample, max_tokens (or
   * max_completion_tokens), stop and ignore_eos. On BigModel, temperature and top_p default to the
   * model family's documented values. Logprobs are read by each endpoint (their shapes differ).
   */
  static SamplingParams.Builder parse(JsonNode root, Api api, String model, int maxTokensLimit) {
    SamplingParams.Builder s = SamplingParams.newBuilder();
    Double temperature = Params.number(root, "temperature", "temperature", 0.0, 2.0, true);
    Double topP = Params.number(root, "top_p", "top_p", 0.0, 1.0, false);
    if (api == Api.BIGMODEL) {
      BigModelDefaults.Defaults d = BigModelDefaults.of(model);
      temperature = temperature != null ? temperature : d.temperature();
      topP = topP != null ? topP : d.topP();
    }
    if (temperature != null) {
      s.setTemperature(temperature.floatValue());
    }
    if (topP != null) {
      s.setTopP(topP.floatValue());
    }
    Integer topK = Params.integer(root, "top_k", "top_k", -1, 1_000_000);
    if (topK != null && topK > 0) {
      s.setTopK(topK);
    }
    Double minP = Params.number(root, "min_p", "min_p", 0.0, 1.0, true);
    if (minP != null) {
      s.setMinP(minP.floatValue());
    }
    Double rep = Params.number(root, "repetition_penalty", "repetition_penalty", 0.0, 2.0, false);
    if (rep != null) {
      s.setRepetitionPenalty(rep.floatValue());
    }
    Double presence = Params.number(root, "presence_penalty", "presence_penalty", -2.0, 2.0, true);
    if (presence != null) {
      s.setPresencePenalty(presence.floatValue());
    }
    Double frequency =
        Params.number(root, "frequency_penalty", "frequency_penalty", -2.0, 2.0, true);
    if (frequency != null) {
      s.setFrequencyPenalty(frequency.floatValue());
    }
    Long seed = Params.int64(root, "seed", "seed");
    if (seed != null) {
      s.setSeed(seed);
    }
    Boolean doSample = Params.optionalBool(root, "do_sample", "do_sample");
    if (doSample != null) {
      s.setDoSample(doSample);
    }
    Integer maxTokens = maxTokens(root, maxTokensLimit);
    if (maxTokens != null) {
      s.setMaxTokens(maxTokens);
    }
    s.addAllStop(Params.strings(root, "stop", "stop", MAX_STOP));
    s.setIgnoreEos(Params.bool(root, "ignore_eos", "ignore_eos", false));
    return s;
  }

  /** n, 1 to {@link #MAX_N}; 1 when absent. */
  static int n(JsonNode root) {
    Integer n = Params.integer(root, "n", "n", 1, MAX_N);
    return n == null ? 1 : n;
  }

  /** top_logprobs, 0 to 20; only together with logprobs. */
  static int topLogprobs(JsonNode root, boolean logprobs) {
    Integer top = Params.integer(root, "top_logprobs", "top_logprobs", 0, 20);
    if (top != null && top > 0 && !logprobs) {
      throw GlmException.invalid("'top_logprobs' needs 'logprobs' set to true", "top_logprobs");
    }
    return top == null ? 0 : top;
  }

  private static Integer maxTokens(JsonNode root, int limit) {
    String field =
        Params.present(root, "max_tokens")
            ? "max_tokens"
            : Params.present(root, "max_completion_tokens") ? "max_completion_tokens" : null;
    return field == null ? null : Params.integer(root, field, field, 1, limit);
  }
}
