package org.glmmaas.billing.ledger;

import java.util.Set;

/**
 * What one ingest transaction did.
 *
 * @param numInserted events newly written to the ledger (and billed)
 * @param numDuplicates events whose request id was already in the ledger (not billed again)
 * @param tenants tenants whose balance changed
 */
public record IngestResult(int numInserted, int numDuplicates, Set<String> tenants) {}
