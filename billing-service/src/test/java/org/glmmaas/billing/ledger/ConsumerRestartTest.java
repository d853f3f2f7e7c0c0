package org.glmmaas.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.glmmaas.billing.BillingServiceApplication;
import org.glmmaas.billing.account.AccountService;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * Billing is stopped in the middle of a stream and a new instance starts on the same database and
 * broker; then its offsets are rewound so the whole topic is delivered again. Exactly N ledger rows
 * and the right balance every time.
 */
class ConsumerRestartTest {

  static final int N = 1500;

  private static ConfigurableApplicationContext start(String topic, String group) {
    // command-line arguments: they win over application.yaml
    return new SpringApplicationBuilder(BillingServiceApplication.class)
        .run(
            "--server.port=0",
            "--glm.billing.grpc.port=0",
            "--spring.datasource.url=" + TestInfra.jdbcUrl(),
            "--spring.datasource.username=postgres",
            "--spring.kafka.bootstrap-servers=" + TestInfra.bootstrap(),
            "--glm.billing.kafka.usage-topic=" + topic,
            "--glm.billing.kafka.consumer-group=" + group,
            "--spring.kafka.listener.concurrency=1",
            "--spring.kafka.consumer.max-poll-records=50",
            "--logging.structured.format.console=");
  }

  private static long rows(JdbcClient jdbc, String tenant) {
    return jdbc.sql("select count(*) from usage_ledger where tenant_id = ?")
        .param(tenant)
        .query(Long.class)
        .single();
  }

  @Test
  void stoppedMidStreamAndRestartedStillBillsEachEventOnce() throws Exception {
    String topic = "restart.usage." + UUID.randomUUID();
    String group = "restart-" + UUID.randomUUID();
    String tenant = "tenant-restart-" + UUID.randomUUID();
    JdbcClient db = JdbcClient.create(TestInfra.postgres().getPostgresDatabase());
    long expectedCost = 0;
    TestInfra.createTopic(topic, 1);
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      for (int i = 0; i < N; i++) {
        UsageEvent e =
            Events.usage(
                "rs-" + tenant + "-" + i, tenant, "restart-model", "k", 50 + i % 100, 0, 1 + i % 7);
        expectedCost +=
            Events.expectedCost(1_000_000, 500_000, 2_000_000, 50 + i % 100, 0, 1 + i % 7);
        p.send(new ProducerRecord<>(topic, tenant, e.toByteArray()));
      }
    }

    try (ConfigurableApplicationContext first = start(topic, group)) {
      first.getBean(AccountService.class).topUp(tenant, 100_000_000, "CNY");
      await("first batches billed", Duration.ofSeconds(90), () -> rows(db, tenant) > 0);
    } // stopped mid-stream
    long atStop = rows(db, tenant);
    assertThat(atStop).isBetween(1L, (long) N - 1);

    try (ConfigurableApplicationContext second = start(topic, group)) {
      await("all billed after restart", Duration.ofSeconds(120), () -> rows(db, tenant) == N);
      assertThat(second.getBean(AccountService.class).balance(tenant).balanceMicros())
          .isEqualTo(100_000_000 - expectedCost);

      // every event delivered again (offsets rewound to 0): none is billed again
      MessageListenerContainer listener =
          second.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer("usage-ledger");
      listener.stop();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestInfra.bootstrap()))) {
        Map<TopicPartition, OffsetAndMetadata> rewind = new HashMap<>();
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get()
            .get(topic)
            .partitions()
            .forEach(
                pi ->
                    rewind.put(
                        new TopicPartition(topic, pi.partition()), new OffsetAndMetadata(0)));
        admin.alterConsumerGroupOffsets(group, rewind).all().get();
      }
      listener.start();
      try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
        // same tenant = same partition: once the sentinel is billed the replay was read
        p.send(
            new ProducerRecord<>(
                topic,
                tenant,
                Events.usage("sentinel-" + tenant, tenant, "restart-model", "k", 0, 0, 0)
                    .toByteArray()));
      }
      await("replay read", Duration.ofSeconds(120), () -> rows(db, tenant) == N + 1);
      assertThat(second.getBean(AccountService.class).balance(tenant).balanceMicros())
          .isEqualTo(100_000_000 - expectedCost);
      long rollup =
          db.sql("select sum(requests) from usage_daily where tenant_id = ?")
              .param(tenant)
              .query(Long.class)
              .single();
      assertThat(rollup).isEqualTo(N + 1);
    }
  }
}
