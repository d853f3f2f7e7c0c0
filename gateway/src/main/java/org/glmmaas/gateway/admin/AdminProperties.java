package org.glmmaas.gateway.admin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The admin entry of the gateway, under {@code glm.gateway.admin.*}: {@code /admin/auth/**} and
 * {@code /admin/billing/**} pass through to the admin HTTP APIs of auth-service and
 * billing-service, {@code /admin/gateway/**} is the gateway's own (workers' load).
 *
 * @param token the admin token callers (the console) send as {@code Authorization: Bearer}; the
 *     gateway checks it once and then sends each service its own admin token. Empty: every {@code
 *     /admin/**} call is refused with 401 (the admin entry is off)
 * @param maxBodySize largest admin request body (a larger Content-Length is a 413; a body without a
 *     Content-Length is a 411)
 * @param auth auth-service's admin API
 * @param billing billing-service's admin API
 */
@ConfigurationProperties("glm.gateway.admin")
public record AdminProperties(
    @DefaultValue("") String token,
    @DefaultValue("64KB") DataSize maxBodySize,
    @DefaultValue Upstream auth,
    @DefaultValue Upstream billing) {

  /** Shortest admin token accepted (the services' own rule). */
  public static final int MIN_TOKEN_LENGTH = 16;

  public AdminProperties {
    if (!token.isEmpty() && token.length() < MIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException(
          "glm.gateway.admin.token must be at least " + MIN_TOKEN_LENGTH + " characters");
    }
  }

  /**
   * @param url base URL of the service's HTTP port, e.g. {@code http://auth-service:8081}; empty:
   *     the route answers 503
   * @param token that service's own admin token ({@code glm.auth.admin-token}, {@code
   *     glm.billing.admin-token}), sent in place of the caller's
   */
  public record Upstream(@DefaultValue("") String url, @DefaultValue("") String token) {

    public boolean configured() {
      return !url.isBlank() && !token.isBlank();
    }
  }
}
