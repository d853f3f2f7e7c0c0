package org.glmmaas.auth.key;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.glmmaas.auth.tenant.Limits;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** SQL for {@code api_keys}. */
@Repository
public class ApiKeyRepository {

  private final JdbcClient jdbc;

  public ApiKeyRepository(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  public void insert(ApiKey k, StoredSecret s) {
    jdbc.sql(
            """
        INSERT INTO api_keys (id, tenant_id, name, allowed_models, requests_per_minute, tokens_per_minute,
          max_concurrency, expires_at, secret_hash, secret_ciphertext, master_key_version)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
        .params(
            k.id(),
            k.tenantId(),
            k.name(),
            k.allowedModels().toArray(String[]::new),
            k.limits().requestsPerMinute(),
            k.limits().tokensPerMinute(),
            k.limits().maxConcurrency(),
            ts(k.expiresAt()),
            s.hash(),
            s.ciphertext(),
            s.masterKeyVersion())
        .update();
  }

  public Optional<ApiKey> find(String id) {
    return jdbc.sql("SELECT * FROM api_keys WHERE id = ?")
        .param(id)
        .query(ApiKeyRepository::map)
        .optional();
  }

  public List<ApiKey> listByTenant(String tenantId) {
    return jdbc.sql("SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id")
        .param(tenantId)
        .query(ApiKeyRepository::map)
        .list();
  }

  public void update(ApiKey k) {
    jdbc.sql(
            """
        UPDATE api_keys SET name = ?, allowed_models = ?, requests_per_minute = ?, tokens_per_minute = ?,
          max_concurrency = ?, expires_at = ?, updated_at = now() WHERE id = ?""")
        .params(
            k.name(),
            k.allowedModels().toArray(String[]::new),
            k.limits().requestsPerMinute(),
            k.limits().tokensPerMinute(),
            k.limits().maxConcurrency(),
            ts(k.expiresAt()),
            k.id())
        .update();
  }

  public void revoke(String id, Instant at) {
    jdbc.sql(
            "UPDATE api_keys SET revoked_at = ?, updated_at = now() WHERE id = ? AND revoked_at IS NULL")
        .params(ts(at), id)
        .update();
  }

  /** Replaces the secret; true when the row still had {@code expectedVersion} (optimistic). */
  public boolean replaceSecret(String id, StoredSecret s, Integer expectedVersion) {
    String guard =
        expectedVersion == null ? "" : " AND master_key_version = " + expectedVersion.intValue();
    return jdbc.sql(
                "UPDATE api_keys SET secret_hash = ?, secret_ciphertext = ?, master_key_version = ?, "
                    + "updated_at = now() WHERE id = ?"
                    + guard)
            .params(s.hash(), s.ciphertext(), s.masterKeyVersion(), id)
            .update()
        == 1;
  }

  /**
   * Ids and secrets of keys not under {@code version}, a batch at a time, for master-key rotation.
   */
  public List<Map.Entry<String, StoredSecret>> secretsNotUnder(int version, int limit) {
    return jdbc.sql(
            "SELECT id, secret_hash, secret_ciphertext, master_key_version FROM api_keys "
                + "WHERE master_key_version <> ? ORDER BY id LIMIT ?")
        .params(version, limit)
        .query((rs, n) -> Map.entry(rs.getString("id"), secret(rs)))
        .list();
  }

  public List<Integer> masterKeyVersionsInUse() {
    return jdbc.sql("SELECT DISTINCT master_key_version FROM api_keys ORDER BY 1")
        .query(Integer.class)
        .list();
  }

  /** One batched {@code last_used_at} update for many keys; never moves the time backwards. */
  public void touch(Map<String, Instant> lastUsed) {
    if (lastUsed.isEmpty()) {
      return;
    }
    String[] ids = lastUsed.keySet().toArray(String[]::new);
    long[] millis = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      millis[i] = lastUsed.get(ids[i]).toEpochMilli();
    }
    jdbc.sql(
            """
        UPDATE api_keys k SET last_used_at = greatest(k.last_used_at, to_timestamp(v.ms / 1000.0))
        FROM unnest(?::text[], ?::bigint[]) AS v(id, ms) WHERE k.id = v.id""")
        .params(ids, millis)
        .update();
  }

  static StoredSecret secret(ResultSet rs) throws SQLException {
    return new StoredSecret(
        rs.getBytes("secret_hash"),
        rs.getBytes("secret_ciphertext"),
        rs.getInt("master_key_version"));
  }

  static ApiKey map(ResultSet rs, int row) throws SQLException {
    String[] models = (String[]) rs.getArray("allowed_models").getArray();
    return new ApiKey(
        rs.getString("id"),
        rs.getString("tenant_id"),
        rs.getString("name"),
        List.copyOf(Arrays.asList(models)),
        new Limits(
            rs.getInt("requests_per_minute"),
            rs.getLong("tokens_per_minute"),
            rs.getInt("max_concurrency")),
        instant(rs, "expires_at"),
        instant(rs, "revoked_at"),
        instant(rs, "last_used_at"),
        instant(rs, "created_at"),
        instant(rs, "updated_at"));
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  static OffsetDateTime ts(Instant i) {
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }
}
