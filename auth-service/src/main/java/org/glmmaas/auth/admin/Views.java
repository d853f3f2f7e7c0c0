package org.glmmaas.auth.admin;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.glmmaas.auth.key.ApiKey;
import org.glmmaas.auth.key.CreatedKey;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.Tenant;

/** JSON shapes of the admin API (snake_case); a secret appears only in {@link #created}. */
final class Views {

  private Views() {}

  static Map<String, Object> tenant(Tenant t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.id());
    m.put("name", t.name());
    m.put("status", t.status().name());
    limits(m, t.limits());
    m.put("created_at", str(t.createdAt()));
    m.put("updated_at", str(t.updatedAt()));
    return m;
  }

  static Map<String, Object> key(ApiKey k, Instant now) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("key_id", k.id());
    m.put("tenant_id", k.tenantId());
    m.put("name", k.name());
    m.put("status", k.status(now));
    m.put("allowed_models", k.allowedModels());
    limits(m, k.limits());
    m.put("expires_at", str(k.expiresAt()));
    m.put("revoked_at", str(k.revokedAt()));
    m.put("last_used_at", str(k.lastUsedAt()));
    m.put("created_at", str(k.createdAt()));
    m.put("updated_at", str(k.updatedAt()));
    return m;
  }

  static Map<String, Object> created(CreatedKey c, Instant now) {
    Map<String, Object> m = key(c.key(), now);
    m.put("api_key", c.apiKey());
    m.put("secret", c.secret());
    return m;
  }

  private static void limits(Map<String, Object> m, Limits l) {
    m.put("requests_per_minute", l.requestsPerMinute());
    m.put("tokens_per_minute", l.tokensPerMinute());
    m.put("max_concurrency", l.maxConcurrency());
  }

  private static String str(Instant i) {
    return i == null ? null : i.toString();
  }
}
