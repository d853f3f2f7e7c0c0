package org.glmmaas.auth;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** {@link AuthFlowContract} on a PostgreSQL container; skipped where there is no Docker. */
@Testcontainers(disabledWithoutDocker = true)
@TestPropertySource(
    properties = {
      "spring.datasource.url=${glm.test.container-db-url}",
      "spring.datasource.username=${glm.test.container-db-user}",
      "spring.datasource.password=${glm.test.container-db-password}"
    })
class ContainerPostgresAuthFlowTest extends AuthFlowContract {

  @Container static final PostgreSQLContainer PG = new PostgreSQLContainer("postgres:17-alpine");

  @DynamicPropertySource
  static void containerDatabase(DynamicPropertyRegistry registry) {
    registry.add("glm.test.container-db-url", PG::getJdbcUrl);
    registry.add("glm.test.container-db-user", PG::getUsername);
    registry.add("glm.test.container-db-password", PG::getPassword);
  }
}
