package org.glmmaas.billing.ledger;

import java.util.List;
import java.util.Set;

/**
 * What one ingest transaction did (returned after it committed).
 *
 * @param numInserted events newly written to the ledger (and billed)
 * @param numDuplicates events whose request id was already in the ledger (not billed again)
 * @param tenants tenants whose balance changed
 * @param billed the newly billed events with their cost, in batch order
 */
public record IngestResult(
    int numInserted, int numDuplicates, Set<String> tenants, List<Billed> billed) {

  /** One newly billed event and what it cost, in micro-units. */
  public record Billed(org.glmmaas.proto.billing.v1.UsageEvent event, long costMicros) {}
}
