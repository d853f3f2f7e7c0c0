package org.glmmaas.gateway.ratelimit;

import java.time.Duration;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.proto.auth.v1.Limits;
import reactor.core.publisher.Mono;

/**
 * Per-key and per-tenant limits: requests per minute and tokens per minute (token buckets that
 * refill continuously) and concurrent in-flight requests (leases that expire, so a crashed
 * replica's permits do not leak). Both scopes are checked and taken atomically: all or nothing.
 */
public interface RateLimiter {

  /**
   * Tries to admit one request.
   *
   * @param request who asks and for how much
   * @return the admission (with the headers to send), or a denial carrying a RateLimited error
   */
  Mono<Admission> admit(Request request);

  /**
   * Ends a lease and settles tokens: {@code actualTokens} replaces the estimate taken at admission
   * (negative: keep the estimate).
   */
  Mono<Void> release(Request request, long actualTokens);

  /**
   * One admission request.
   *
   * @param keyId API key id
   * @param keyLimits the key's limits (0 = unlimited)
   * @param tenantId tenant id
   * @param tenantLimits the tenant's limits
   * @param tokens estimated tokens (prompt + max_tokens) counted against TPM
   * @param leaseId unique id of the in-flight permit
   * @param leaseTtl how long the permit lives if never released
   */
  record Request(
      String keyId,
      Limits keyLimits,
      String tenantId,
      Limits tenantLimits,
      long tokens,
      String leaseId,
      Duration leaseTtl) {}

  /**
   * The outcome, and the state to report in x-ratelimit-* headers (the key's, or the tenant's when
   * the key has no limits); null headers when neither has RPM/TPM limits.
   */
  record Admission(GlmError denied, Headers headers) {
    public boolean admitted() {
      return denied == null;
    }
  }

  /** Values of the x-ratelimit-* headers. A limit of 0 means that limit is not set. */
  record Headers(
      long limitRequests,
      long remainingRequests,
      Duration resetRequests,
      long limitTokens,
      long remainingTokens,
      Duration resetTokens) {}

  /** OpenAI's duration format for reset headers: "1s", "6m0s", "20ms". */
  static String formatReset(Duration d) {
    long ms = Math.max(0, d.toMillis());
    if (ms < 1000) {
      return ms + "ms";
    }
    long s = ms / 1000;
    long m = s / 60;
    long h = m / 60;
    if (h > 0) {
      return h + "h" + (m % 60) + "m" + (s % 60) + "s";
    }
    if (m > 0) {
      return m + "m" + (s % 60) + "s";
    }
    long tenths = (ms % 1000) / 100;
    return tenths == 0 ? s + "s" : s + "." + tenths + "s";
  }
}
