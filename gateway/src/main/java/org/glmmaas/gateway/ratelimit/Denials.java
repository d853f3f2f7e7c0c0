package org.glmmaas.gateway.ratelimit;

import java.time.Duration;
import org.glmmaas.gateway.error.GlmError;

/** The RateLimited errors a limiter hands out, worded once. */
final class Denials {

  private Denials() {}

  static GlmError of(String kind, int scope, long retryAfterMs) {
    String who = scope == 0 ? "API key" : "account";
    Duration retry = Duration.ofMillis(Math.max(1000, retryAfterMs));
    return switch (kind) {
      case "concurrency" ->
          new GlmError.RateLimited(
              "too many concurrent requests for this " + who + "; retry when one finishes",
              "1302",
              Duration.ofSeconds(1),
              "requests");
      case "tokens" ->
          new GlmError.RateLimited(
              "tokens-per-minute limit of this "
                  + who
                  + " reached; retry in "
                  + RateLimiter.formatReset(retry),
              "1303",
              retry,
              "tokens");
      default ->
          new GlmError.RateLimited(
              "requests-per-minute limit of this "
                  + who
                  + " reached; retry in "
                  + RateLimiter.formatReset(retry),
              "1303",
              retry,
              "requests");
    };
  }
}
