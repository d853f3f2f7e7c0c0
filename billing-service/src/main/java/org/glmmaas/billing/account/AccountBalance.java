package org.glmmaas.billing.account;

/**
 * A tenant's money, micro-units of {@code currency}.
 *
 * @param balanceMicros prepaid top-ups minus settled usage (negative when usage overran)
 * @param reservedMicros held by open reservations
 */
public record AccountBalance(
    String tenantId, long balanceMicros, long reservedMicros, String currency) {

  public long availableMicros() {
    return balanceMicros - reservedMicros;
  }
}
