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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real PostgreSQL (zonky binaries) with its data under {@code <data>/postgres}, one database per
 * service.
 */
final class Postgres implements AutoCloseable {

  static final List<String> DATABASES = List.of("glm_auth", "glm_billing", "glm_knowledge");

  private final EmbeddedPostgres pg;
  final boolean fresh;
  private Process watchdog;

  private Postgres(EmbeddedPostgres pg, boolean fresh) {
    this.pg = pg;
    this.fresh = fresh;
  }

  /**
   * Starts PostgreSQL on {@code dir}, listening on 127.0.0.1 only. A server left running on the
   * same folder by a launcher that was killed is stopped first (its {@code postmaster.pid} would
   * make the new one give up), and the new server is stopped by a small watchdog when this process
   * dies without stopping it.
   */
  static Postgres start(Path dir) throws IOException, SQLException {
    boolean fresh = !Files.isRegularFile(dir.resolve("PG_VERSION"));
    Files.createDirectories(dir);
    stopLeftover(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(false)
            .setServerConfig("listen_addresses", "127.0.0.1")
            .setPort(Ports.free())
            .start();
    Postgres p = new Postgres(pg, fresh);
    p.watchdog = watchdog(ProcessHandle.current().pid(), postmasterPid(dir));
    p.createDatabases();
    return p;
  }

  /** The pid in {@code <dir>/postmaster.pid}, or -1. */
  static long postmasterPid(Path dir) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("postmaster.pid"));
      return lines.isEmpty() ? -1 : Long.parseLong(lines.getFirst().trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /**
   * A server of an earlier run still holding {@code dir}: fast shutdown (SIGINT), then SIGKILL
   * after 20 s. A stale pid file whose process is gone is left to PostgreSQL, which replaces it.
   */
  static void stopLeftover(Path dir) throws IOException {
    long pid = postmasterPid(dir);
    Optional<ProcessHandle> handle = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
    if (handle.isEmpty()
        || !handle.get().isAlive()
        || !handle.get().info().command().orElse("").endsWith("postgres")) {
      return;
    }
    signal(pid, "INT");
    try {
      handle.get().onExit().get(20, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      handle.get().destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the PostgreSQL left by an earlier run");
    } catch (ExecutionException e) {
      throw new IOException("stopping the PostgreSQL left by an earlier run: " + e.getCause());
    }
  }

  private static void signal(long pid, String signal) throws IOException {
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * PostgreSQL runs detached from this JVM (pg_ctl), so it would outlive a launcher killed with
   * SIGKILL: a shell in its own session polls the launcher once a second and, once it is gone, asks
   * PostgreSQL for a fast shutdown.
   */
  private static Process watchdog(long ownerPid, long postgresPid) throws IOException {
    if (postgresPid <= 0 || !Files.isExecutable(Path.of("/bin/sh"))) {
      return null;
    }
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      cmd.add("/usr/bin/setsid");
    }
    cmd.addAll(
        List.of(
            "/bin/sh",
            "-c",
            "while kill -0 "
                + ownerPid
                + " 2>/dev/null; do sleep 1; done; kill -INT "
                + postgresPid
                + " 2>/dev/null",
            "glm-postgres-watchdog"));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
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

  /** The watchdog that stops this server when the launcher dies (null without /bin/sh). */
  Process watchdog() {
    return watchdog;
  }

  String jdbcUrl(String database) {
    return pg.getJdbcUrl("postgres", database);
  }

  int port() {
    return pg.getPort();
  }

  @Override
  public void close() throws IOException {
    if (watchdog != null) {
      watchdog.descendants().forEach(ProcessHandle::destroy);
      watchdog.destroy();
    }
    pg.close();
  }
}
