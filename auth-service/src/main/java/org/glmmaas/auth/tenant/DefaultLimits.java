package org.glmmaas.auth.tenant;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The limits a new tenant or key gets for each limit its create request leaves out ({@code
 * glm.auth.default-limits.tenant.*} and {@code .key.*}: {@code requests-per-minute}, {@code
 * tokens-per-minute}, {@code max-concurrency}; 0 means unlimited). A new tenant is limited by
 * default (3,000 requests and 3,000,000 tokens a minute, 64 calls at once), so a tenant made
 * without thinking about limits cannot take the whole cluster; a new key has no limits of its own
 * by default, and its tenant's apply. An explicit 0 in the request still means unlimited.
 */
@ConfigurationProperties("glm.auth.default-limits")
public record DefaultLimits(Limits tenant, Limits key) {

  public static final Limits TENANT = new Limits(3000, 3_000_000L, 64);

  public DefaultLimits {
    tenant = tenant != null ? tenant : TENANT;
    key = key != null ? key : Limits.UNLIMITED;
  }

  /** The defaults as they are when nothing is configured. */
  public static DefaultLimits builtIn() {
    return new DefaultLimits(null, null);
  }
}
