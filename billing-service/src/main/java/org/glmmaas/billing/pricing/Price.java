package org.glmmaas.billing.pricing;

import java.time.LocalDate;

/** A catalogue row: micro-units of the currency per million tokens, in force from a UTC date. */
public record Price(
    String model,
    LocalDate effectiveFrom,
    long inputMicrosPerMtok,
    long cachedInputMicrosPerMtok,
    long outputMicrosPerMtok) {

  public Price {
    if (inputMicrosPerMtok < 0 || cachedInputMicrosPerMtok < 0 || outputMicrosPerMtok < 0) {
      throw new IllegalArgumentException("prices must not be negative");
    }
  }
}
