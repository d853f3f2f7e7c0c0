package org.glmmaas.auth.credential;

import java.time.Instant;
import java.util.List;
import javax.crypto.Mac;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.TenantStatus;

/**
 * Everything the hot path needs about one key and its tenant. {@code jwtMac} is an HMAC-SHA256
 * initialised with the decrypted secret (cloned per use); the secret string itself is not kept.
 */
record CachedKey(
    String keyId,
    String tenantId,
    List<String> allowedModels,
    Limits keyLimits,
    Limits tenantLimits,
    TenantStatus tenantStatus,
    Instant expiresAt,
    Instant revokedAt,
    byte[] secretHash,
    int masterKeyVersion,
    Mac jwtMac,
    long loadedAtNanos) {

  @Override
  public String toString() {
    return "CachedKey[" + keyId + "]";
  }
}
