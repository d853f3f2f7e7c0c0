package org.glmmaas.auth.key;

import java.time.Instant;
import java.util.List;
import org.glmmaas.auth.tenant.Limits;

/** An API key as admins see it: never the secret. */
public record ApiKey(
    String id,
    String tenantId,
    String name,
    List<String> allowedModels,
    Limits limits,
    Instant expiresAt,
    Instant revokedAt,
    Instant lastUsedAt,
    Instant createdAt,
    Instant updatedAt) {

  /** ACTIVE, REVOKED or EXPIRED at {@code now}. */
  public String status(Instant now) {
    if (revokedAt != null) {
      return "REVOKED";
    }
    if (expiresAt != null && !expiresAt.isAfter(now)) {
      return "EXPIRED";
    }
    return "ACTIVE";
  }
}
