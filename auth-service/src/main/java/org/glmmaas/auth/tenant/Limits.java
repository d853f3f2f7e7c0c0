package org.glmmaas.auth.tenant;

/** Rate limits; 0 means unlimited. */
public record Limits(int requestsPerMinute, long tokensPerMinute, int maxConcurrency) {

  public static final Limits UNLIMITED = new Limits(0, 0, 0);

  public Limits {
    if (requestsPerMinute < 0 || tokensPerMinute < 0 || maxConcurrency < 0) {
      throw new IllegalArgumentException("limits must be >= 0 (0 means unlimited)");
    }
  }
}
