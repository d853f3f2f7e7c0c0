package org.glmmaas.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.BillingProperties;
import org.glmmaas.billing.account.AccountService;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The ingest guarantees against container images of Kafka and PostgreSQL, where Docker exists
 * (skipped here: no Docker daemon; the embedded broker and zonky PostgreSQL carry the suite).
 */
@Testcontainers(disabledWithoutDocker = true)
@SpringBootTest(properties = {"glm.billing.grpc.port=0", "spring.kafka.listener.concurrency=1"})
class ContainersIngestTest {

  @Container static final PostgreSQLContainer PG = new PostgreSQLContainer("postgres:17-alpine");
  @Container static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka-native:4.1.2");

  @DynamicPropertySource
  static void infra(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", PG::getJdbcUrl);
    registry.add("spring.datasource.username", PG::getUsername);
    registry.add("spring.datasource.password", PG::getPassword);
    registry.add("spring.kafka.bootstrap-servers", KAFKA::getBootstrapServers);
  }

  @Autowired JdbcClient jdbc;
  @Autowired AccountService accounts;
  @Autowired BillingProperties props;

  @Test
  void duplicatesAreBilledOnceAndPoisonIsSkipped() {
    String tenant = "tc-" + UUID.randomUUID();
    accounts.topUp(tenant, 10_000_000, "CNY");
    long cost = 0;
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(KAFKA.getBootstrapServers())) {
      p.send(
          new ProducerRecord<>(
              props.kafka().usageTopic(), tenant, "garbage".getBytes(StandardCharsets.UTF_8)));
      for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 200; i++) {
          UsageEvent e = Events.usage("tc-" + tenant + "-" + i, tenant, "m", "k", 100, 0, 10);
          p.send(new ProducerRecord<>(props.kafka().usageTopic(), tenant, e.toByteArray()));
        }
      }
      p.send(
          new ProducerRecord<>(
              props.kafka().usageTopic(),
              tenant,
              Events.usage("sentinel-" + tenant, tenant, "m", "k", 0, 0, 0).toByteArray()));
    }
    for (int i = 0; i < 200; i++) {
      cost += Events.expectedCost(1_000_000, 500_000, 2_000_000, 100, 0, 10);
    }
    await(
        "sentinel",
        Duration.ofSeconds(120),
        () ->
            jdbc.sql("select count(*) from usage_ledger where tenant_id = ?")
                    .param(tenant)
                    .query(Long.class)
                    .single()
                == 201);
    assertThat(accounts.balance(tenant).balanceMicros()).isEqualTo(10_000_000 - cost);
  }
}
