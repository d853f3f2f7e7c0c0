package org.glmmaas.billing.pricing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/** The rounding rule: exact integer sum per million tokens, rounded up once per request. */
class CostsTest {

  // 2 CNY / Mtok input, 0.5 cached, 8 output
  static final Price P = new Price("m", LocalDate.EPOCH, 2_000_000, 500_000, 8_000_000);

  @Test
  void aRequestCostsItsTokensRoundedUpToAWholeMicroUnit() {
    // 1000 uncached * 2 + 0 + 500 * 8 = 6_000 micros exactly
    assertThat(Costs.requestCost(P, 1000, 0, 500)).isEqualTo(6_000);
    // one prompt token costs 2 micros; one cached token costs 0.5 -> rounds up to 1
    assertThat(Costs.requestCost(P, 1, 0, 0)).isEqualTo(2);
    assertThat(Costs.requestCost(P, 1, 1, 0)).isEqualTo(1);
    // 3 cached tokens = 1.5 micros -> 2 (per request, not per token: 3 x 0.5 summed first)
    assertThat(Costs.requestCost(P, 3, 3, 0)).isEqualTo(2);
    assertThat(Costs.requestCost(P, 0, 0, 0)).isZero();
  }

  @Test
  void cachedTokensPayTheCachedPrice() {
    assertThat(Costs.requestCost(P, 1000, 1000, 0)).isEqualTo(500);
    assertThat(Costs.requestCost(P, 1000, 400, 0)).isEqualTo(600 * 2 + 400 / 2);
  }

  @Test
  void aReservationHoldsThePromptAtInputPriceAndMaxTokensAtOutputPrice() {
    assertThat(Costs.reservationAmount(P, 1000, 4096)).isEqualTo(2_000 + 4096 * 8);
    assertThat(Costs.cheapestCall(P)).isEqualTo(10);
  }

  @Test
  void impossibleCountsAndOverflowAreRejected() {
    assertThatThrownBy(() -> Costs.requestCost(P, 1, 2, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Costs.requestCost(P, -1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class);
    Price huge = new Price("m", LocalDate.EPOCH, Long.MAX_VALUE / 2, 0, 0);
    assertThatThrownBy(() -> Costs.requestCost(huge, 10, 0, 0))
        .isInstanceOf(ArithmeticException.class);
  }
}
