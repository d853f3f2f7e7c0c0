package org.glmmaas.auth.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** One real embedded PostgreSQL (zonky) per test JVM, shared by every test class. */
public final class TestDatabase {

  private static EmbeddedPostgres pg;

  private TestDatabase() {}

  public static synchronized EmbeddedPostgres instance() {
    if (pg == null) {
      try {
        pg = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
      }
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      pg.close();
                    } catch (IOException ignored) {
                      // JVM is exiting
                    }
                  }));
    }
    return pg;
  }

  /** JDBC URL of the shared {@code postgres} database. */
  public static String url() {
    return instance().getJdbcUrl("postgres", "postgres");
  }

  /** A fresh, empty database in the same server, for tests that need their own schema. */
  public static synchronized String newDatabase(String name) {
    try (Connection c = instance().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name);
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return instance().getJdbcUrl("postgres", name);
  }
}
