package org.glmmaas.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.time.Duration;
import java.time.LocalDate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.pricing.Price;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;

/**
 * A batch line's usage (batch_id set) is billed at the batch price (50 % of the catalogue price by
 * default), once even when the worker's event and the gateway's copy both arrive; its reservation
 * is held at the batch price too.
 */
class BatchPriceTest extends BillingIntegrationTest {

  static final String MODEL = "glm-batch-price-test";

  @Test
  void batchLinesCostHalfAndAreBilledOnce() {
    prices.put(new Price(MODEL, LocalDate.of(2020, 1, 1), 2_000_000, 1_000_000, 6_000_000));
    String tenant = newTenant();
    accounts.topUp(tenant, 100_000_000, "CNY");
    UsageEvent online = Events.usage("online-" + tenant, tenant, MODEL, "k", 1000, 0, 500);
    UsageEvent batch =
        Events.usage("batch_x-" + tenant, tenant, MODEL, "k", 1000, 0, 500).toBuilder()
            .setBatchId("batch_x")
            .build();
    // a reservation for the batch line is at the batch price: (1000*2 + 500*6) / 2 = 2500 micros
    var held = accounts.reserve(batch.getRequestId(), tenant, MODEL, 1000, 500, true);
    assertThat(held.granted()).isTrue();
    assertThat(held.amountMicros()).isEqualTo(2_500);
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      String topic = props.kafka().usageTopic();
      p.send(new ProducerRecord<>(topic, tenant, online.toByteArray()));
      p.send(new ProducerRecord<>(topic, tenant, batch.toByteArray()));
      p.send(new ProducerRecord<>(topic, tenant, batch.toByteArray())); // the gateway's copy
    }
    await("both billed", Duration.ofSeconds(60), () -> ledgerRows(tenant) >= 2);
    long onlineCost = cost("online-" + tenant);
    long batchCost = cost(batch.getRequestId());
    assertThat(onlineCost).isEqualTo(5_000); // 1000 * 2 + 500 * 6 CNY/Mtok
    assertThat(batchCost).isEqualTo(2_500);
    assertThat(ledgerRows(tenant)).isEqualTo(2);
    assertThat(accounts.balance(tenant).balanceMicros()).isEqualTo(100_000_000 - 7_500);
  }

  private long cost(String requestId) {
    return jdbc.sql("select cost_micros from usage_ledger where request_id = ?")
        .param(requestId)
        .query(Long.class)
        .single();
  }
}
