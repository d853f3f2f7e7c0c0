package org.glmmaas.auth.credential;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.spec.SecretKeySpec;
import org.glmmaas.auth.AuthProperties;
import org.glmmaas.auth.crypto.SecretCodec;
import org.glmmaas.auth.events.KeyChange;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.TenantStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Keys in memory for the hot path. An entry lives for {@code glm.auth.key-cache-ttl} (so changes
 * made through another replica are seen within that time) and is dropped at once when this replica
 * commits a change to the key or its tenant. Unknown key ids are remembered too, for the same TTL,
 * in a separate map bounded at {@value #MAX_UNKNOWN} entries and keyed by the id's SHA-256, so a
 * caller cycling through made-up key ids costs one database read per id and TTL, never evicts the
 * real keys, and cannot grow memory by sending long ids. A key created on this replica is known at
 * once (its creation drops the negative entry); one created on another replica within the TTL.
 */
@Component
public class KeyCache {

  private static final String LOAD =
      """
      SELECT k.id, k.tenant_id, k.allowed_models, k.requests_per_minute, k.tokens_per_minute, k.max_concurrency,
             k.expires_at, k.revoked_at, k.secret_hash, k.secret_ciphertext, k.master_key_version,
             t.status AS t_status, t.requests_per_minute AS t_rpm, t.tokens_per_minute AS t_tpm,
             t.max_concurrency AS t_conc
      FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = ?""";

  private final JdbcClient jdbc;
  private final SecretCodec codec;
  private final long ttlNanos;
  private final int maxEntries;
  private final ConcurrentHashMap<String, CachedKey> entries = new ConcurrentHashMap<>();

  static final int MAX_UNKNOWN = 10_000;

  /** Hash of an unknown key id -> when it was found unknown (System.nanoTime). */
  private final ConcurrentHashMap<IdHash, Long> unknown = new ConcurrentHashMap<>();

  private final java.util.concurrent.atomic.AtomicLong loads =
      new java.util.concurrent.atomic.AtomicLong();

  /** A key id's SHA-256. */
  record IdHash(long a, long b, long c, long d) {
    static IdHash of(String keyId) {
      byte[] h;
      try {
        h =
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(keyId.getBytes(StandardCharsets.UTF_8));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(h);
      return new IdHash(b.getLong(), b.getLong(), b.getLong(), b.getLong());
    }
  }

  public KeyCache(JdbcClient jdbc, SecretCodec codec, AuthProperties props) {
    this.jdbc = jdbc;
    this.codec = codec;
    this.ttlNanos = props.keyCacheTtl().toNanos();
    this.maxEntries = props.keyCacheMaxEntries();
  }

  /** The key, from memory when fresh, else from the database; empty when unknown. */
  Optional<CachedKey> get(String keyId) {
    CachedKey k = entries.get(keyId);
    long now = System.nanoTime();
    if (k != null && now - k.loadedAtNanos() < ttlNanos) {
      return Optional.of(k);
    }
    IdHash h = IdHash.of(keyId);
    Long missedAt = unknown.get(h);
    if (missedAt != null && now - missedAt < ttlNanos) {
      return Optional.empty();
    }
    loads.incrementAndGet();
    Optional<CachedKey> loaded = load(keyId);
    if (loaded.isPresent()) {
      unknown.remove(h);
      if (entries.size() >= maxEntries) {
        entries.clear();
      }
      entries.put(keyId, loaded.get());
    } else {
      entries.remove(keyId);
      if (unknown.size() >= MAX_UNKNOWN) {
        unknown.values().removeIf(t -> now - t >= ttlNanos);
        if (unknown.size() >= MAX_UNKNOWN) {
          unknown.clear();
        }
      }
      unknown.put(h, now);
    }
    return loaded;
  }

  public void invalidate(String keyId) {
    entries.remove(keyId);
    unknown.remove(IdHash.of(keyId));
  }

  /** Database reads of keys so far (tests). */
  public long loads() {
    return loads.get();
  }

  /** Unknown key ids remembered. */
  public int unknownCount() {
    return unknown.size();
  }

  public void invalidateTenant(String tenantId) {
    entries.values().removeIf(k -> k.tenantId().equals(tenantId));
  }

  public void invalidateAll() {
    entries.clear();
    unknown.clear();
  }

  public int size() {
    return entries.size();
  }

  @TransactionalEventListener(fallbackExecution = true)
  void onChange(KeyChange change) {
    if (change.keyId() != null) {
      invalidate(change.keyId());
    } else {
      invalidateTenant(change.tenantId());
    }
  }

  private Optional<CachedKey> load(String keyId) {
    return jdbc.sql(LOAD)
        .param(keyId)
        .query(
            (rs, n) -> {
              String id = rs.getString("id");
              int version = rs.getInt("master_key_version");
              String secret = codec.decrypt(id, rs.getBytes("secret_ciphertext"), version);
              var mac =
                  SecretCodec.newMac(
                      new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
              var expires = rs.getObject("expires_at", java.time.OffsetDateTime.class);
              var revoked = rs.getObject("revoked_at", java.time.OffsetDateTime.class);
              return new CachedKey(
                  id,
                  rs.getString("tenant_id"),
                  java.util.List.of((String[]) rs.getArray("allowed_models").getArray()),
                  new Limits(
                      rs.getInt("requests_per_minute"),
                      rs.getLong("tokens_per_minute"),
                      rs.getInt("max_concurrency")),
                  new Limits(rs.getInt("t_rpm"), rs.getLong("t_tpm"), rs.getInt("t_conc")),
                  TenantStatus.valueOf(rs.getString("t_status")),
                  expires == null ? null : expires.toInstant(),
                  revoked == null ? null : revoked.toInstant(),
                  rs.getBytes("secret_hash"),
                  version,
                  mac,
                  System.nanoTime());
            })
        .optional();
  }
}
