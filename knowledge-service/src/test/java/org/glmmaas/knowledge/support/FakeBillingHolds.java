package org.glmmaas.knowledge.support;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.knowledge.embed.BillingHolds;

/**
 * A fake billing-service for holds: every tenant has balance except those in {@link #broke}; open
 * holds are kept by request id (tokens held), released ones removed and counted.
 */
public final class FakeBillingHolds implements BillingHolds {

  public final Set<String> broke = ConcurrentHashMap.newKeySet();

  /** Tenants whose balance is used up: {@link #hasBalance} is false (and every hold refused). */
  public final Set<String> empty = ConcurrentHashMap.newKeySet();

  public final Map<String, Integer> open = new ConcurrentHashMap<>();
  public final Set<String> released = ConcurrentHashMap.newKeySet();
  public final Map<String, Integer> refusedByTenant = new ConcurrentHashMap<>();

  @Override
  public boolean reserve(String requestId, String tenantId, String model, int promptTokens) {
    if (broke.contains(tenantId) || empty.contains(tenantId)) {
      refusedByTenant.merge(tenantId, 1, Integer::sum);
      return false;
    }
    open.putIfAbsent(requestId, promptTokens);
    return true;
  }

  @Override
  public boolean hasBalance(String tenantId) {
    return !empty.contains(tenantId);
  }

  @Override
  public void release(String requestId, String tenantId) {
    if (open.remove(requestId) != null) {
      released.add(requestId);
    }
  }
}
