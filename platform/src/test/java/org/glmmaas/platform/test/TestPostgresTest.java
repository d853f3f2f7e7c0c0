package org.glmmaas.platform.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class TestPostgresTest {

  @Test
  void oneServerPerJvmAndAFreshDatabaseOnRequest() throws Exception {
    assertThat(TestPostgres.instance()).isSameAs(TestPostgres.instance());
    String url = TestPostgres.newDatabase("platform_fresh");
    try (Connection c = DriverManager.getConnection(url, "postgres", "postgres");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (x int)");
      s.execute("INSERT INTO t VALUES (42)");
    }
    String again = TestPostgres.newDatabase("platform_fresh");
    try (Connection c = DriverManager.getConnection(again, "postgres", "postgres");
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 't'")) {
      r.next();
      assertThat(r.getInt(1)).as("the database was made anew").isZero();
    }
    assertThat(TestPostgres.url()).startsWith("jdbc:postgresql://");
  }

  @Test
  void refusesANameThatIsNotPlain() {
    assertThatThrownBy(() -> TestPostgres.newDatabase("x; DROP DATABASE postgres"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
