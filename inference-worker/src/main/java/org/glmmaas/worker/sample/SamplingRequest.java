package org.glmmaas.worker.sample;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Sampling fields of an API request as the client sent them ({@code null} = not sent), turned into
 * a validated {@link SamplingConfig} by {@link #toConfig}. The allowed ranges depend on the API:
 *
 * <table>
 *   <caption>Ranges</caption>
 *   <tr><th>field</th><th>OpenAI ({@code /v1})</th><th>BigModel ({@code /api/paas/v4})</th></tr>
 *   <tr><td>temperature</td><td>[0, 2], default 1</td><td>[0, 1], default 0.95; 0 = greedy</td></tr>
 *   <tr><td>top_p</td><td>(0, 1], default 1</td><td>(0, 1), default 0.7</td></tr>
 *   <tr><td>do_sample</td><td>-</td><td>default true; false = greedy</td></tr>
 *   <tr><td>presence/frequency_penalty</td><td>[-2, 2]</td><td>[-2, 2]</td></tr>
 *   <tr><td>top_k</td><td colspan="2">>= 0 (0 = off)</td></tr>
 *   <tr><td>min_p</td><td colspan="2">[0, 1]</td></tr>
 *   <tr><td>repetition_penalty</td><td colspan="2">(0, 10]</td></tr>
 *   <tr><td>max_tokens</td><td colspan="2">>= 1</td></tr>
 *   <tr><td>stop</td><td colspan="2">at most 4 non-empty strings</td></tr>
 *   <tr><td>top_logprobs</td><td colspan="2">[0, 20], needs logprobs</td></tr>
 * </table>
 */
public record SamplingRequest(
    Float temperature,
    Float topP,
    Integer topK,
    Float minP,
    Float repetitionPenalty,
    Float presencePenalty,
    Float frequencyPenalty,
    Boolean doSample,
    Long seed,
    Integer maxTokens,
    List<String> stop,
    Boolean ignoreEos,
    Boolean logprobs,
    Integer topLogprobs) {

  /** Which API's ranges and defaults apply. */
  public enum Dialect {
    OPENAI,
    BIGMODEL
  }

  public static final int MAX_STOP_STRINGS = 4;
  public static final int MAX_TOP_LOGPROBS = 20;

  /** A request with nothing set. */
  public static SamplingRequest empty() {
    return new SamplingRequest(
        null, null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  /**
   * @param defaultMaxTokens max_tokens when the client sent none
   * @param seeds the seed when the client sent none
   * @throws InvalidSamplingException naming the first field out of range
   */
  public SamplingConfig toConfig(Dialect dialect, int defaultMaxTokens, LongSupplier seeds) {
    boolean openAi = dialect == Dialect.OPENAI;
    float t = temperature != null ? temperature : openAi ? 1f : 0.95f;
    if (openAi) {
      check("temperature", t, 0, 2, true, true);
    } else {
      check("temperature", t, 0, 1, true, true);
    }
    float p = topP != null ? topP : openAi ? 1f : 0.7f;
    if (openAi) {
      check("top_p", p, 0, 1, false, true);
    } else {
      check("top_p", p, 0, 1, false, false);
    }
    int k = topK != null ? topK : 0;
    if (k < 0) {
      throw new InvalidSamplingException("top_k", "top_k must be >= 0 (0 = off), got " + k);
    }
    float minP = this.minP != null ? this.minP : 0f;
    check("min_p", minP, 0, 1, true, true);
    float rep = repetitionPenalty != null ? repetitionPenalty : 1f;
    check("repetition_penalty", rep, 0, 10, false, true);
    float presence = presencePenalty != null ? presencePenalty : 0f;
    check("presence_penalty", presence, -2, 2, true, true);
    float frequency = frequencyPenalty != null ? frequencyPenalty : 0f;
    check("frequency_penalty", frequency, -2, 2, true, true);
    int max = maxTokens != null ? maxTokens : defaultMaxTokens;
    if (max < 1) {
      throw new InvalidSamplingException("max_tokens", "max_tokens must be >= 1, got " + max);
    }
    List<String> stops = stop == null ? List.of() : List.copyOf(stop);
    if (stops.size() > MAX_STOP_STRINGS) {
      throw new InvalidSamplingException(
          "stop", "stop allows at most " + MAX_STOP_STRINGS + " strings, got " + stops.size());
    }
    for (int i = 0; i < stops.size(); i++) {
      String s = stops.get(i);
      if (s.isEmpty()) {
        throw new InvalidSamplingException(
            "stop", "stop[" + i + "] is empty: stop strings must have at least one character");
      }
      if (!StandardCharsets.UTF_8.newEncoder().canEncode(s)) {
        throw new InvalidSamplingException(
            "stop", "stop[" + i + "] contains an unpaired UTF-16 surrogate");
      }
    }
    boolean lp = logprobs != null && logprobs;
    int topLp = topLogprobs != null ? topLogprobs : 0;
    if (topLp < 0 || topLp > MAX_TOP_LOGPROBS) {
      throw new InvalidSamplingException(
          "top_logprobs", "top_logprobs must be in [0, " + MAX_TOP_LOGPROBS + "], got " + topLp);
    }
    if (topLp > 0 && !lp) {
      throw new InvalidSamplingException(
          "top_logprobs", "top_logprobs requires logprobs to be true");
    }
    boolean sample = doSample == null || doSample;
    long s = seed != null ? seed : seeds.getAsLong();
    return new SamplingConfig(
        t,
        p,
        k,
        minP,
        rep,
        presence,
        frequency,
        sample,
        s,
        max,
        stops,
        ignoreEos != null && ignoreEos,
        lp,
        topLp);
  }

  /**
   * Validates a config built directly (the loosest ranges: OpenAI's temperature, top_p in (0, 1]).
   */
  public static SamplingConfig validate(SamplingConfig c) {
    new SamplingRequest(
            c.temperature(),
            c.topP(),
            c.topK(),
            c.minP(),
            c.repetitionPenalty(),
            c.presencePenalty(),
            c.frequencyPenalty(),
            c.doSample(),
            c.seed(),
            c.maxTokens(),
            c.stop(),
            c.ignoreEos(),
            c.logprobs(),
            c.topLogprobs())
        .toConfig(Dialect.OPENAI, 1, () -> 0L);
    return c;
  }

  private static void check(
      String name, float v, float lo, float hi, boolean loIncl, boolean hiIncl) {
    boolean ok = !Float.isNaN(v) && (loIncl ? v >= lo : v > lo) && (hiIncl ? v <= hi : v < hi);
    if (!ok) {
      throw new InvalidSamplingException(
          name,
          name
              + " must be in "
              + (loIncl ? "[" : "(")
              + fmt(lo)
              + ", "
              + fmt(hi)
              + (hiIncl ? "]" : ")")
              + ", got "
              + v);
    }
  }

  private static String fmt(float v) {
    return v == Math.rint(v) ? String.valueOf((int) v) : String.valueOf(v);
  }
}
