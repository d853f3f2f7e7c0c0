package org.glmmaas.billing.ledger;

import java.time.LocalDate;

/** One rollup row: a tenant's usage of one model with one key on one UTC day. */
public record UsageRow(
    LocalDate date,
    String model,
    String keyId,
    long requests,
    long promptTokens,
    long cachedTokens,
    long completionTokens,
    long costMicros) {}
