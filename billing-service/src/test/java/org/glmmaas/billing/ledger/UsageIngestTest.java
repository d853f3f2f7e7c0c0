package org.glmmaas.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.kafka.UsageListener;
import org.glmmaas.billing.pricing.Price;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;

/** Usage events through a real broker into a real PostgreSQL ledger: each billed exactly once. */
class UsageIngestTest extends BillingIntegrationTest {

  static final String MODEL = "glm-4-9b-chat-ingest-test";

  private void send(KafkaProducer<String, byte[]> p, UsageEvent e) {
    p.send(new ProducerRecord<>(props.kafka().usageTopic(), e.getTenantId(), e.toByteArray()));
  }

  @Test
  void everyEventSentTwiceIsBilledOnce() {
    prices.put(new Price(MODEL, LocalDate.of(2020, 1, 1), 2_000_000, 1_000_000, 6_000_000));
    String tenant = newTenant();
    accounts.topUp(tenant, 500_000_000, "CNY");
    int n = 600;
    List<UsageEvent> events = new ArrayList<>();
    long expectedCost = 0;
    for (int i = 0; i < n; i++) {
      int prompt = 100 + i, cached = i % 50, completion = 7 + (i % 13);
      events.add(
          Events.usage(
              "req-" + tenant + "-" + i,
              tenant,
              MODEL,
              "key-" + (i % 3),
              prompt,
              cached,
              completion));
      expectedCost +=
          Events.expectedCost(2_000_000, 1_000_000, 6_000_000, prompt, cached, completion);
    }
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      events.forEach(e -> send(p, e));
      events.forEach(e -> send(p, e)); // every event redelivered
      // same tenant = same partition, so once the sentinel is billed every earlier record was seen
      send(p, Events.usage("sentinel-" + tenant, tenant, MODEL, "key-0", 0, 0, 0));
    }
    await("sentinel billed", Duration.ofSeconds(60), () -> ledgerRows(tenant) > n);

    assertThat(ledgerRows(tenant)).isEqualTo(n + 1);
    assertThat(accounts.balance(tenant).balanceMicros()).isEqualTo(500_000_000 - expectedCost);
    long rollupCost =
        jdbc.sql("select sum(cost_micros) from usage_daily where tenant_id = ?")
            .param(tenant)
            .query(Long.class)
            .single();
    long rollupRequests =
        jdbc.sql("select sum(requests) from usage_daily where tenant_id = ?")
            .param(tenant)
            .query(Long.class)
            .single();
    assertThat(rollupCost).isEqualTo(expectedCost);
    assertThat(rollupRequests).isEqualTo(n + 1);
  }

  @Test
  void poisonRecordsGoToTheDeadLetterTopicAndThePartitionKeepsFlowing() {
    String tenant = newTenant();
    UsageEvent invalid =
        Events.usage("bad-" + tenant, tenant, MODEL, "k", 10, 20, 5); // cached > prompt
    UsageEvent good = Events.usage("good-" + tenant, tenant, MODEL, "k", 10, 0, 5);
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      p.send(
          new ProducerRecord<>(
              props.kafka().usageTopic(),
              tenant,
              "not a protobuf \u0000\u00ff".getBytes(StandardCharsets.ISO_8859_1)));
      send(p, invalid);
      send(p, good);
    }
    await(
        "the valid event after the poison billed",
        Duration.ofSeconds(60),
        () -> ledgerRows(tenant) == 1);

    List<ConsumerRecord<String, byte[]>> dlt =
        TestInfra.readUntil(
            TestInfra.bootstrap(),
            props.kafka().deadLetterTopic(),
            seen -> seen.stream().filter(r -> tenant.equals(r.key())).count() >= 2);
    List<String> reasons =
        dlt.stream()
            .filter(r -> tenant.equals(r.key()))
            .map(
                r ->
                    new String(
                        r.headers().lastHeader(UsageListener.DLT_REASON_HEADER).value(),
                        StandardCharsets.UTF_8))
            .toList();
    assertThat(reasons).hasSize(2);
    assertThat(reasons.get(0)).startsWith("undecodable UsageEvent");
    assertThat(reasons.get(1)).isEqualTo("cached_tokens must not exceed prompt_tokens");
    assertThat(
            jdbc.sql("select request_id from usage_ledger where tenant_id = ?")
                .param(tenant)
                .query(String.class)
                .list())
        .containsExactly("good-" + tenant);
  }
}
