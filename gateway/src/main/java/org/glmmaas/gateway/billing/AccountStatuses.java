package org.glmmaas.gateway.billing;

import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.proto.billing.v1.AccountStatus;

/**
 * The latest AccountStatus of each tenant, fed from the compacted topic {@code
 * glm.account-status.v1}: a tenant marked INSUFFICIENT_BALANCE is refused (1113) before any worker
 * time is spent.
 */
public final class AccountStatuses {

  private final ConcurrentHashMap<String, AccountStatus.Status> byTenant =
      new ConcurrentHashMap<>();

  public void accept(byte[] value) {
    try {
      accept(AccountStatus.parseFrom(value));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("not an AccountStatus: " + e.getMessage(), e);
    }
  }

  public void accept(AccountStatus s) {
    if (s.getTenantId().isEmpty()) {
      return;
    }
    byTenant.put(s.getTenantId(), s.getStatus());
  }

  public boolean insufficient(String tenantId) {
    return byTenant.get(tenantId) == AccountStatus.Status.INSUFFICIENT_BALANCE;
  }
}
