package org.glmmaas.billing.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.billing.support.TestInfra.await;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.glmmaas.billing.pricing.Price;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.billing.support.Events;
import org.glmmaas.billing.support.TestInfra;
import org.glmmaas.proto.billing.v1.AccountStatus;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.Test;

/** Reserve-then-settle never lets a burst overshoot the balance. */
class ReservationTest extends BillingIntegrationTest {

  static final String MODEL = "glm-reserve-test";

  private String fundedTenant(long micros) {
    // 1 micro per prompt token, 2 per output token
    prices.put(new Price(MODEL, LocalDate.of(2020, 1, 1), 1_000_000, 1_000_000, 2_000_000));
    String tenant = newTenant();
    accounts.topUp(tenant, micros, "CNY");
    return tenant;
  }

  @Test
  void fiftyConcurrentReservationsAgainstABalanceForTenGrantAtMostTen() throws Exception {
    String tenant = fundedTenant(10_000); // each call holds 100 + 450 * 2 = 1_000
    CountDownLatch start = new CountDownLatch(1);
    List<Future<ReservationOutcome>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(50)) {
      for (int i = 0; i < 50; i++) {
        String requestId = tenant + "-call-" + i;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  return accounts.reserve(requestId, tenant, MODEL, 100, 450);
                }));
      }
      start.countDown();
    }
    long granted = 0;
    for (Future<ReservationOutcome> f : results) {
      ReservationOutcome o = f.get();
      assertThat(o.amountMicros()).isEqualTo(1_000);
      assertThat(o.availableMicros()).isGreaterThanOrEqualTo(0);
      granted += o.granted() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(10);
    AccountBalance b = accounts.balance(tenant);
    assertThat(b.reservedMicros()).isEqualTo(10_000);
    assertThat(b.availableMicros()).isZero();

    // gateways learn the tenant is out of money from the compacted status topic
    List<ConsumerRecord<String, byte[]>> statuses =
        TestInfra.readUntil(
            TestInfra.bootstrap(),
            props.kafka().statusTopic(),
            seen ->
                lastStatus(seen, tenant) != null
                    && lastStatus(seen, tenant).getStatus()
                        == AccountStatus.Status.INSUFFICIENT_BALANCE);
    assertThat(lastStatus(statuses, tenant).getBalanceMicros()).isZero();
  }

  private static AccountStatus lastStatus(
      List<ConsumerRecord<String, byte[]>> records, String tenant) {
    AccountStatus last = null;
    for (ConsumerRecord<String, byte[]> r : records) {
      if (tenant.equals(r.key())) {
        try {
          last = AccountStatus.parseFrom(r.value());
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }
    }
    return last;
  }

  @Test
  void theUsageEventSettlesItsReservationAndReleaseReturnsAHold() {
    String tenant = fundedTenant(10_000);
    assertThat(accounts.reserve("r1-" + tenant, tenant, MODEL, 100, 450).granted()).isTrue();
    assertThat(accounts.reserve("r2-" + tenant, tenant, MODEL, 100, 450).granted()).isTrue();
    // asking again for the same request id is idempotent
    assertThat(accounts.reserve("r1-" + tenant, tenant, MODEL, 100, 450).granted()).isTrue();
    assertThat(accounts.balance(tenant).reservedMicros()).isEqualTo(2_000);

    UsageEvent used = Events.usage("r1-" + tenant, tenant, MODEL, "k", 100, 0, 50); // 100 + 100
    try (KafkaProducer<String, byte[]> p = TestInfra.producer(TestInfra.bootstrap())) {
      p.send(new ProducerRecord<>(props.kafka().usageTopic(), tenant, used.toByteArray()));
    }
    await("settled", Duration.ofSeconds(60), () -> ledgerRows(tenant) == 1);
    AccountBalance afterSettle = accounts.balance(tenant);
    assertThat(afterSettle.balanceMicros()).isEqualTo(10_000 - 200);
    assertThat(afterSettle.reservedMicros()).isEqualTo(1_000);

    assertThat(accounts.release("r2-" + tenant, tenant)).isTrue();
    assertThat(accounts.release("r2-" + tenant, tenant)).isFalse(); // only once
    assertThat(accounts.release("r1-" + tenant, tenant)).isFalse(); // already settled
    assertThat(accounts.balance(tenant).reservedMicros()).isZero();
    assertThat(accounts.balance(tenant).availableMicros()).isEqualTo(9_800);
  }

  @Test
  void staleReservationsExpireAndReturnTheirHold() {
    String tenant = fundedTenant(5_000);
    assertThat(accounts.reserve("stale-" + tenant, tenant, MODEL, 100, 450).granted()).isTrue();
    jdbc.sql("update reservation set expires_at = now() - interval '1 second' where request_id = ?")
        .param("stale-" + tenant)
        .update();
    assertThat(accounts.expireStale()).isGreaterThanOrEqualTo(1);
    assertThat(accounts.balance(tenant).reservedMicros()).isZero();
    assertThat(accounts.release("stale-" + tenant, tenant)).isFalse();
  }

  @Test
  void aTenantWithoutMoneyIsRefused() {
    String tenant = newTenant();
    ReservationOutcome o = accounts.reserve("x-" + tenant, tenant, MODEL, 10, 10);
    assertThat(o.granted()).isFalse();
    assertThat(o.availableMicros()).isZero();
  }
}
