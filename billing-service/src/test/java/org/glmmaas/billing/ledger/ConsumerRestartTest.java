package org.glmmaas.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.time.Duration;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.BillingServiceApplication;
import org.glmmaas.billing.account.AccountService;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Billing is stopped in the middle of a stream and a new instance starts on the same database and
 * broker; then a third instance with a fresh consumer group re-reads the whole topic. Exactly N
 * ledger rows and the right balance every time.
 */
class ConsumerRestartTest {

  static final int N = 3000;

  private static ConfigurableApplicationContext start(String topic, String group) {
    return new SpringApplicationBuilder(BillingServiceApplication.class).properties(
        "server.port=0",
        "glm.billing.grpc.port=0",
        "spring.datasource.url=" + TestInfra.jdbcUrl(),
        "spring.datasource.username=postgres",
        "spring.kafka.bootstrap-servers=" + TestInfra.bootstrap(),
        "glm.billing.kafka.usage-topic=" + topic,
        "glm.billing.kafka.consumer-group=" + group,
        "spring.kafka.listener.concurrency=1",
        "spring.kafka.consumer.max-poll-records=50",
        "logging.structured.format.console=").run();
  }

  private static long rows(JdbcClient jdbc, String tenant) {
    return jdbc.sql("select count(*) from usage_ledger where tenant_id = ?").param(tenant)
        .query(Long.class).single();
  }

  @Test
  void stoppedMidStreamAndRestartedStillBillsEachEventOnce() {
    String topic = "restart.usage." + UUID.randomUUID();
    String tenant = "tenant-restart-" + UUID.randomUUID();
    long expectedCost = 0;
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      for (int i = 0; i < N; i++) {
        UsageEvent e = Events.usage("rs-" + tenant + "-" + i, tenant, "restart-model", "k", 50 + i % 100,
            0, 1 + i % 7);
        expectedCost += Events.expectedCost(1_000_000, 500_000, 2_000_000, 50 + i % 100, 0, 1 + i % 7);
        p.send(new ProducerRecord<>(topic, tenant, e.toByteArray()));
      }
    }

    long atStop;
    try (ConfigurableApplicationContext first = start(topic, "restart-" + UUID.randomUUID())) {
      String group = first.getEnvironment().getProperty("glm.billing.kafka.consumer-group");
      first.getBean(AccountService.class).topUp(tenant, 100_000_000, "CNY");
      JdbcClient jdbc = first.getBean(JdbcClient.class);
      await("first batches billed", Duration.ofSeconds(90), () -> rows(jdbc, tenant) > 0);
      first.close();   // stop mid-stream
      atStop = rows(jdbc, tenant);
      assertThat(atStop).isLessThan(N);

      try (ConfigurableApplicationContext second = start(topic, group)) {
        JdbcClient jdbc2 = second.getBean(JdbcClient.class);
        await("all billed after restart", Duration.ofSeconds(120), () -> rows(jdbc2, tenant) == N);
        assertThat(second.getBean(AccountService.class).balance(tenant).balanceMicros())
            .isEqualTo(100_000_000 - expectedCost);
      }
    }

    // a fresh consumer group: every event is delivered again; none is billed again
    try (ConfigurableApplicationContext third = start(topic, "replay-" + UUID.randomUUID())) {
      JdbcClient jdbc3 = third.getBean(JdbcClient.class);
      // same tenant = same partition: a sentinel after the replay shows it was all read
      try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
        p.send(new ProducerRecord<>(topic, tenant,
            Events.usage("sentinel-" + tenant, tenant, "restart-model", "k", 0, 0, 0).toByteArray()));
      }
      await("replay read", Duration.ofSeconds(120), () -> rows(jdbc3, tenant) == N + 1);
      assertThat(third.getBean(AccountService.class).balance(tenant).balanceMicros())
          .isEqualTo(100_000_000 - expectedCost);
      long rollup = jdbc3.sql("select sum(requests) from usage_daily where tenant_id = ?").param(tenant)
          .query(Long.class).single();
      assertThat(rollup).isEqualTo(N + 1);
    }
  }
}
