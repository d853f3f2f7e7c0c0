package org.glmmaas.billing.account;

/**
 * @param granted whether the hold was taken
 * @param amountMicros what the call would hold (held when granted)
 * @param availableMicros balance minus open reservations after the call
 */
public record ReservationOutcome(boolean granted, long amountMicros, long availableMicros) {}
