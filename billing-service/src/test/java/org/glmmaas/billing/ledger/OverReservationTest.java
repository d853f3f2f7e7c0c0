package org.glmmaas.billing.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.LocalDate;
import java.util.List;
import org.glmmaas.billing.pricing.Price;
import org.glmmaas.billing.support.BillingIntegrationTest;
import org.glmmaas.billing.support.Events;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The ledger never bills beyond a reservation without saying so: usage costing more than its hold
 * is billed (the tokens were delivered) and counted in glm.billing.usage.over.reservation; usage
 * within its hold is not counted.
 */
class OverReservationTest extends BillingIntegrationTest {

  static final String MODEL = "glm-4-over-reservation-test";

  @Autowired UsageLedger ledger;
  @Autowired MeterRegistry meters;

  private double count() {
    var c = meters.find("glm.billing.usage.over.reservation").counter();
    return c == null ? -1 : c.count();
  }

  private double excess() {
    var c = meters.find("glm.billing.usage.over.reservation.micros").counter();
    return c == null ? -1 : c.count();
  }

  @Test
  void usageBeyondItsReservationIsBilledAndCounted() {
    prices.put(new Price(MODEL, LocalDate.of(2020, 1, 1), 1_000_000, 1_000_000, 1_000_000));
    String tenant = newTenant();
    accounts.topUp(tenant, 100_000, "CNY");
    // holds 10 prompt + 100 completion tokens = 110 micros
    assertThat(accounts.reserve("within-" + tenant, tenant, MODEL, 10, 100).granted()).isTrue();
    assertThat(accounts.reserve("beyond-" + tenant, tenant, MODEL, 10, 100).granted()).isTrue();
    double before = count();
    double beforeExcess = excess();
    assertThat(before).isGreaterThanOrEqualTo(0);

    ledger.ingest(List.of(Events.usage("within-" + tenant, tenant, MODEL, "k", 10, 0, 90)));
    assertThat(count()).isEqualTo(before);

    ledger.ingest(List.of(Events.usage("beyond-" + tenant, tenant, MODEL, "k", 10, 0, 500)));
    assertThat(count()).isEqualTo(before + 1);
    assertThat(excess()).isEqualTo(beforeExcess + 400);
    // billed in full, holds returned: 100,000 - 100 - 510
    var b = accounts.balance(tenant);
    assertThat(b.balanceMicros()).isEqualTo(100_000 - 100 - 510);
    assertThat(b.reservedMicros()).isZero();
  }
}
