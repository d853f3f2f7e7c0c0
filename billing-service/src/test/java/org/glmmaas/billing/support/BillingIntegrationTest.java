package org.glmmaas.billing.support;

import java.util.UUID;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.account.AccountService;
import org.glmmaas.billing.pricing.PriceCatalogue;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of the tests that run the whole billing service against a real Kafka broker and a real
 * PostgreSQL. All subclasses share one cached Spring context; each test uses its own tenants.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "glm.billing.grpc.port=0",
      "glm.billing.admin-token=test-admin-token",
      "glm.billing.default-price.input-micros-per-mtok=1000000",
      "glm.billing.default-price.cached-input-micros-per-mtok=500000",
      "glm.billing.default-price.output-micros-per-mtok=2000000",
      "spring.kafka.listener.concurrency=1",
      "spring.kafka.consumer.properties.fetch.max.wait.ms=100"
    })
public abstract class BillingIntegrationTest {

  @Autowired protected JdbcClient jdbc;
  @Autowired protected AccountService accounts;
  @Autowired protected PriceCatalogue prices;
  @Autowired protected BillingProperties props;

  @DynamicPropertySource
  static void infra(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", TestInfra::jdbcUrl);
    registry.add("spring.datasource.username", () -> "postgres");
    registry.add("spring.kafka.bootstrap-servers", TestInfra::bootstrap);
  }

  protected static String newTenant() {
    return "tenant-" + UUID.randomUUID();
  }

  protected long ledgerRows(String tenant) {
    return jdbc.sql("select count(*) from usage_ledger where tenant_id = ?")
        .param(tenant)
        .query(Long.class)
        .single();
  }
}
