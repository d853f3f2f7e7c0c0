package org.glmmaas.launcher;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A real PostgreSQL (zonky binaries) with its data under {@code <data>/postgres}, one database per
 * service.
 */
final class Postgres implements AutoCloseable {

  static final List<String> DATABASES = List.of("glm_auth", "glm_billing");

  private final EmbeddedPostgres pg;
  final boolean fresh;

  private Postgres(EmbeddedPostgres pg, boolean fresh) {
    this.pg = pg;
    this.fresh = fresh;
  }

  static Postgres start(Path dir) throws IOException, SQLException {
    boolean fresh = !Files.isRegularFile(dir.resolve("PG_VERSION"));
    Files.createDirectories(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(false)
            .setPort(Ports.free())
            .start();
    Postgres p = new Postgres(pg, fresh);
    p.createDatabases();
    return p;
  }

  private void createDatabases() throws SQLException {
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      for (String db : DATABASES) {
        try (PreparedStatement q =
            c.prepareStatement("select 1 from pg_database where datname = ?")) {
          q.setString(1, db);
          try (ResultSet rs = q.executeQuery()) {
            if (rs.next()) {
              continue;
            }
          }
        }
        try (Statement s = c.createStatement()) {
          s.execute("create database " + db);
        }
      }
    }
  }

  String jdbcUrl(String database) {
    return pg.getJdbcUrl("postgres", database);
  }

  int port() {
    return pg.getPort();
  }

  @Override
  public void close() throws IOException {
    pg.close();
  }
}
