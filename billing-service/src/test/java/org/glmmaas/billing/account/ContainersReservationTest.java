package org.glmmaas.billing.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The concurrency guarantee of reservations against container PostgreSQL (skipped without Docker).
 */
@Testcontainers(disabledWithoutDocker = true)
@SpringBootTest(properties = "glm.billing.grpc.port=0")
class ContainersReservationTest {

  @Container static final PostgreSQLContainer PG = new PostgreSQLContainer("postgres:17-alpine");
  @Container static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka-native:4.1.2");

  @DynamicPropertySource
  static void infra(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", PG::getJdbcUrl);
    registry.add("spring.datasource.username", PG::getUsername);
    registry.add("spring.datasource.password", PG::getPassword);
    registry.add("spring.kafka.bootstrap-servers", KAFKA::getBootstrapServers);
  }

  @Autowired AccountService accounts;

  @Test
  void fiftyConcurrentReservationsAgainstABalanceForTenGrantTen() throws Exception {
    String tenant = "tc-" + UUID.randomUUID();
    accounts.topUp(tenant, 5_000, "CNY"); // default price: 100 prompt + 200 max -> 100 + 400 = 500
    CountDownLatch start = new CountDownLatch(1);
    List<Future<ReservationOutcome>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(50)) {
      for (int i = 0; i < 50; i++) {
        String id = tenant + "-" + i;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  return accounts.reserve(id, tenant, "any-model", 100, 200);
                }));
      }
      start.countDown();
    }
    long granted = 0;
    for (Future<ReservationOutcome> f : results) {
      granted += f.get().granted() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(10);
  }
}
