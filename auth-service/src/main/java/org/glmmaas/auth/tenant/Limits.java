package org.glmmaas.auth.tenant;

import org.glmmaas.auth.DomainException;

/** Rate limits; 0 means unlimited. */
public record Limits(int requestsPerMinute, long tokensPerMinute, int maxConcurrency) {

  public static final Limits UNLIMITED = new Limits(0, 0, 0);

  public Limits {
    if (requestsPerMinute < 0 || tokensPerMinute < 0 || maxConcurrency < 0) {
      throw new IllegalArgumentException("limits must be >= 0 (0 means unlimited)");
    }
  }

  /** These limits with the given fields replaced (null keeps the current value). */
  public Limits patched(Integer requestsPerMinute, Long tokensPerMinute, Integer maxConcurrency) {
    try {
      return new Limits(
          requestsPerMinute != null ? requestsPerMinute : this.requestsPerMinute,
          tokensPerMinute != null ? tokensPerMinute : this.tokensPerMinute,
          maxConcurrency != null ? maxConcurrency : this.maxConcurrency);
    } catch (IllegalArgumentException e) {
      throw DomainException.invalid(e.getMessage());
    }
  }
}
