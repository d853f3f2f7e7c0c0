package org.glmmaas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class EmbeddedPostgresConfigurationTest {

  @TempDir Path dir;

  final ApplicationContextRunner runner =
      new ApplicationContextRunner().withUserConfiguration(EmbeddedPostgresConfiguration.class);

  @Test
  void startsARealPostgresWhoseDataSurvivesARestart() {
    String dbDir = "glm.embedded-db.dir=" + dir.resolve("pg");
    runner
        .withPropertyValues(dbDir)
        .run(
            ctx -> {
              try (Connection c = ctx.getBean(DataSource.class).getConnection();
                  Statement s = c.createStatement()) {
                s.execute("create table kept(v int)");
                s.execute("insert into kept values (42)");
              }
            });
    assertThat(Files.isRegularFile(dir.resolve("pg/PG_VERSION"))).isTrue();
    runner
        .withPropertyValues(dbDir)
        .run(
            ctx -> {
              try (Connection c = ctx.getBean(DataSource.class).getConnection();
                  Statement s = c.createStatement();
                  ResultSet rs = s.executeQuery("select v from kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
              }
            });
  }

  @Test
  void aConfiguredDatabaseLeavesItOut() {
    runner
        .withPropertyValues(
            "spring.datasource.url=jdbc:postgresql://db.example:5432/x",
            "glm.embedded-db.dir=" + dir.resolve("unused"))
        .run(ctx -> assertThat(ctx).doesNotHaveBean(DataSource.class));
    assertThat(dir.resolve("unused")).doesNotExist();
  }
}
