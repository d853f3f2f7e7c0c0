package org.glmmaas.billing.pricing;

/**
 * The rounding rule, in one place: a request's cost is the exact sum of its token prices in
 * micro-units per million tokens, divided by one million and rounded UP to a whole micro-unit, per
 * request. Uncached prompt tokens pay the input price, cached prompt tokens the cached-input price,
 * completion tokens the output price. Overflow throws (it would need ~10^13 tokens at 1 CNY/token).
 */
public final class Costs {

  static final long PER_MTOK = 1_000_000L;

  private Costs() {}

  public static long requestCost(
      Price p, long promptTokens, long cachedTokens, long completionTokens) {
    if (promptTokens < 0
        || cachedTokens < 0
        || completionTokens < 0
        || cachedTokens > promptTokens) {
      throw new IllegalArgumentException("token counts must be >= 0 and cached <= prompt");
    }
    long numerator =
        Math.addExact(
            Math.addExact(
                Math.multiplyExact(promptTokens - cachedTokens, p.inputMicrosPerMtok()),
                Math.multiplyExact(cachedTokens, p.cachedInputMicrosPerMtok())),
            Math.multiplyExact(completionTokens, p.outputMicrosPerMtok()));
    return ceilDiv(numerator);
  }

  /** What a reservation holds: every prompt token at the input price plus max_tokens of output. */
  public static long reservationAmount(Price p, long promptTokens, long maxTokens) {
    if (promptTokens < 0 || maxTokens < 0) {
      throw new IllegalArgumentException("prompt_tokens and max_tokens must be >= 0");
    }
    return ceilDiv(
        Math.addExact(
            Math.multiplyExact(promptTokens, p.inputMicrosPerMtok()),
            Math.multiplyExact(maxTokens, p.outputMicrosPerMtok())));
  }

  /** The cheapest possible call at this price: one prompt token and one completion token. */
  public static long cheapestCall(Price p) {
    return ceilDiv(p.inputMicrosPerMtok() + p.outputMicrosPerMtok());
  }

  private static long ceilDiv(long numerator) {
    return Math.ceilDiv(numerator, PER_MTOK);
  }
}
