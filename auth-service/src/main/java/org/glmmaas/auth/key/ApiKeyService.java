package org.glmmaas.auth.key;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.glmmaas.auth.DomainException;
import org.glmmaas.auth.audit.AuditLog;
import org.glmmaas.auth.crypto.SecretCodec;
import org.glmmaas.auth.crypto.SecretGenerator;
import org.glmmaas.auth.events.KeyChange;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.TenantService;
import org.glmmaas.proto.auth.v1.KeyEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Issues, scopes, limits, revokes and rotates API keys; every change is audited and announced. */
@Service
public class ApiKeyService {

  static final int MAX_NAME = 128;
  static final int MAX_MODELS = 256;
  static final int MAX_MODEL_NAME = 256;

  private final ApiKeyRepository keys;
  private final TenantService tenants;
  private final SecretCodec codec;
  private final SecretGenerator generator;
  private final AuditLog audit;
  private final ApplicationEventPublisher events;
  private final Clock clock;

  public ApiKeyService(
      ApiKeyRepository keys,
      TenantService tenants,
      SecretCodec codec,
      SecretGenerator generator,
      AuditLog audit,
      ApplicationEventPublisher events,
      Clock clock) {
    this.keys = keys;
    this.tenants = tenants;
    this.codec = codec;
    this.generator = generator;
    this.audit = audit;
    this.events = events;
    this.clock = clock;
  }

  /** What a new key gets; null models mean all, null limits unlimited, null expiry never. */
  public record NewKey(String name, List<String> allowedModels, Limits limits, Instant expiresAt) {}

  /**
   * Changes of a key; a null field stays; {@code expiresAtSet} with a null {@code expiresAt} clears
   * it.
   */
  public record KeyPatch(
      String name,
      List<String> allowedModels,
      Integer requestsPerMinute,
      Long tokensPerMinute,
      Integer maxConcurrency,
      Instant expiresAt,
      boolean expiresAtSet) {}

  @Transactional
  public CreatedKey create(String actor, String tenantId, NewKey req) {
    tenants.get(tenantId);
    Instant now = clock.instant();
    if (req.expiresAt() != null && !req.expiresAt().isAfter(now)) {
      throw DomainException.invalid("expires_at " + req.expiresAt() + " is not in the future");
    }
    String id = generator.newKeyId();
    String secret = generator.newSecret();
    ApiKey key =
        new ApiKey(
            id,
            tenantId,
            checkName(req.name()),
            checkModels(req.allowedModels()),
            req.limits() == null ? Limits.UNLIMITED : req.limits(),
            req.expiresAt(),
            null,
            null,
            now,
            now);
    keys.insert(key, protect(id, secret));
    audit.record(actor, "key.create", "key", id, Map.of("tenant_id", tenantId, "name", key.name()));
    events.publishEvent(new KeyChange(KeyEvent.Kind.CREATED, id, tenantId, now));
    return new CreatedKey(get(id), secret);
  }

  public ApiKey get(String keyId) {
    return keys.find(keyId).orElseThrow(() -> DomainException.notFound("key", keyId));
  }

  public List<ApiKey> listByTenant(String tenantId) {
    tenants.get(tenantId);
    return keys.listByTenant(tenantId);
  }

  @Transactional
  public ApiKey update(String actor, String keyId, KeyPatch patch) {
    ApiKey k = get(keyId);
    if (k.revokedAt() != null) {
      throw new DomainException(
          DomainException.Kind.CONFLICT, "key '" + keyId + "' is revoked and cannot change");
    }
    Limits limits =
        k.limits()
            .patched(patch.requestsPerMinute(), patch.tokensPerMinute(), patch.maxConcurrency());
    Instant expiresAt = patch.expiresAtSet() ? patch.expiresAt() : k.expiresAt();
    ApiKey changed =
        new ApiKey(
            k.id(),
            k.tenantId(),
            patch.name() != null ? checkName(patch.name()) : k.name(),
            patch.allowedModels() != null ? checkModels(patch.allowedModels()) : k.allowedModels(),
            limits,
            expiresAt,
            null,
            k.lastUsedAt(),
            k.createdAt(),
            k.updatedAt());
    keys.update(changed);
    Map<String, Object> details = new LinkedHashMap<>();
    if (!changed.name().equals(k.name())) {
      details.put("name", changed.name());
    }
    if (!changed.allowedModels().equals(k.allowedModels())) {
      details.put("allowed_models", changed.allowedModels());
    }
    if (!limits.equals(k.limits())) {
      details.put("limits", limits);
    }
    if (patch.expiresAtSet()) {
      details.put("expires_at", String.valueOf(expiresAt));
    }
    audit.record(actor, "key.update", "key", keyId, details);
    events.publishEvent(new KeyChange(KeyEvent.Kind.UPDATED, keyId, k.tenantId(), clock.instant()));
    return get(keyId);
  }

  /** Revokes at once; revoking twice is harmless and keeps the first time. */
  @Transactional
  public ApiKey revoke(String actor, String keyId) {
    ApiKey k = get(keyId);
    if (k.revokedAt() == null) {
      Instant now = clock.instant();
      keys.revoke(keyId, now);
      audit.record(actor, "key.revoke", "key", keyId, Map.of("tenant_id", k.tenantId()));
      events.publishEvent(new KeyChange(KeyEvent.Kind.REVOKED, keyId, k.tenantId(), now));
    }
    return get(keyId);
  }

  /** A new secret for the same key id; the old secret stops working at once. */
  @Transactional
  public CreatedKey rotate(String actor, String keyId) {
    ApiKey k = get(keyId);
    if (k.revokedAt() != null) {
      throw new DomainException(
          DomainException.Kind.CONFLICT, "key '" + keyId + "' is revoked; create a new key");
    }
    String secret = generator.newSecret();
    keys.replaceSecret(keyId, protect(keyId, secret), null);
    audit.record(actor, "key.rotate", "key", keyId, Map.of("tenant_id", k.tenantId()));
    events.publishEvent(new KeyChange(KeyEvent.Kind.ROTATED, keyId, k.tenantId(), clock.instant()));
    return new CreatedKey(get(keyId), secret);
  }

  StoredSecret protect(String keyId, String secret) {
    int v = codec.keyring().currentVersion();
    return new StoredSecret(codec.hash(secret, v), codec.encrypt(keyId, secret, v), v);
  }

  private static String checkName(String name) {
    if (name == null || name.isBlank()) {
      throw DomainException.invalid("name must not be empty");
    }
    String clean = name.strip();
    if (clean.length() > MAX_NAME) {
      throw DomainException.invalid("name must be at most " + MAX_NAME + " characters");
    }
    return clean;
  }

  private static List<String> checkModels(List<String> models) {
    if (models == null) {
      return List.of();
    }
    if (models.size() > MAX_MODELS) {
      throw DomainException.invalid("allowed_models may list at most " + MAX_MODELS + " models");
    }
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String m : models) {
      if (m == null || m.isBlank() || m.length() > MAX_MODEL_NAME) {
        throw DomainException.invalid(
            "allowed_models entries must be non-empty model names of at most "
                + MAX_MODEL_NAME
                + " characters");
      }
      out.add(m.strip());
    }
    return List.copyOf(out);
  }
}
