package org.glmmaas.platform.test;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One real embedded PostgreSQL (zonky) per test JVM, shared by every test class of a service that
 * keeps its state in PostgreSQL; stopped when the JVM exits.
 */
public final class TestPostgres {

  private static EmbeddedPostgres pg;

  private TestPostgres() {}

  /** The server, started on first use. */
  public static synchronized EmbeddedPostgres instance() {
    if (pg == null) {
      try {
        pg = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
      }
      EmbeddedPostgres started = pg;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      started.close();
                    } catch (IOException ignored) {
                      // the JVM is exiting
                    }
                  }));
    }
    return pg;
  }

  /** JDBC URL of the shared {@code postgres} database. */
  public static String url() {
    return instance().getJdbcUrl("postgres", "postgres");
  }

  /** A fresh, empty database in the same server, for a test that needs its own schema. */
  public static synchronized String newDatabase(String name) {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("not a plain database name: " + name);
    }
    try (Connection c = instance().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name);
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
    return instance().getJdbcUrl("postgres", name);
  }
}
