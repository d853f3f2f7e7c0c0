package org.glmmaas.auth.audit;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import tools.jackson.databind.json.JsonMapper;

/** Append-only record of admin actions ({@code admin_audit}); details never hold a secret. */
@Repository
public class AuditLog {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final JdbcClient jdbc;

  public AuditLog(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** One audited action. */
  public record Entry(
      long id,
      Instant at,
      String actor,
      String action,
      String targetType,
      String targetId,
      String details) {}

  public void record(
      String actor, String action, String targetType, String targetId, Map<String, ?> details) {
    jdbc.sql(
            "INSERT INTO admin_audit (actor, action, target_type, target_id, details) VALUES (?, ?, ?, ?, ?::jsonb)")
        .params(actor, action, targetType, targetId, JSON.writeValueAsString(details))
        .update();
  }

  public List<Entry> recent(String targetId, int limit) {
    String where = targetId == null ? "" : "WHERE target_id = :target ";
    var spec =
        jdbc.sql("SELECT * FROM admin_audit " + where + "ORDER BY id DESC LIMIT :limit")
            .param("limit", limit);
    if (targetId != null) {
      spec = spec.param("target", targetId);
    }
    return spec.query(
            (rs, n) ->
                new Entry(
                    rs.getLong("id"),
                    rs.getObject("at", java.time.OffsetDateTime.class).toInstant(),
                    rs.getString("actor"),
                    rs.getString("action"),
                    rs.getString("target_type"),
                    rs.getString("target_id"),
                    rs.getString("details")))
        .list();
  }
}
