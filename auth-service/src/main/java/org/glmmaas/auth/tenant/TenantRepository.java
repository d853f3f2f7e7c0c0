package org.glmmaas.auth.tenant;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** SQL for {@code tenants}. */
@Repository
public class TenantRepository {

  private final JdbcClient jdbc;

  public TenantRepository(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  public void insert(String id, String name, Limits limits) {
    jdbc.sql(
            """
        INSERT INTO tenants (id, name, status, requests_per_minute, tokens_per_minute, max_concurrency)
        VALUES (?, ?, 'ACTIVE', ?, ?, ?)""")
        .params(
            id, name, limits.requestsPerMinute(), limits.tokensPerMinute(), limits.maxConcurrency())
        .update();
  }

  public Optional<Tenant> find(String id) {
    return jdbc.sql("SELECT * FROM tenants WHERE id = ?")
        .param(id)
        .query(TenantRepository::map)
        .optional();
  }

  public boolean nameTaken(String name, String exceptId) {
    return jdbc.sql("SELECT count(*) FROM tenants WHERE name = ? AND id <> ?")
            .params(name, exceptId == null ? "" : exceptId)
            .query(Long.class)
            .single()
        > 0;
  }

  public List<Tenant> list() {
    return jdbc.sql("SELECT * FROM tenants ORDER BY created_at, id")
        .query(TenantRepository::map)
        .list();
  }

  public void update(Tenant t) {
    jdbc.sql(
            """
        UPDATE tenants SET name = ?, status = ?, requests_per_minute = ?, tokens_per_minute = ?,
          max_concurrency = ?, updated_at = now() WHERE id = ?""")
        .params(
            t.name(),
            t.status().name(),
            t.limits().requestsPerMinute(),
            t.limits().tokensPerMinute(),
            t.limits().maxConcurrency(),
            t.id())
        .update();
  }

  static Tenant map(ResultSet rs, int row) throws SQLException {
    return new Tenant(
        rs.getString("id"),
        rs.getString("name"),
        TenantStatus.valueOf(rs.getString("status")),
        new Limits(
            rs.getInt("requests_per_minute"),
            rs.getLong("tokens_per_minute"),
            rs.getInt("max_concurrency")),
        rs.getObject("created_at", java.time.OffsetDateTime.class).toInstant(),
        rs.getObject("updated_at", java.time.OffsetDateTime.class).toInstant());
  }
}
