package org.glmmaas.auth.events;

import java.time.Instant;
import org.glmmaas.proto.auth.v1.KeyEvent;

/**
 * A committed change of a key or a tenant, published as a Spring event inside the admin transaction
 * and delivered after commit: the key cache drops its entries and, with Kafka, gateways are told.
 * For {@code TENANT_UPDATED} {@code keyId} is null.
 */
public record KeyChange(KeyEvent.Kind kind, String keyId, String tenantId, Instant at) {

  /** Record key on {@code glm.key-events.v1}: the key id, or the tenant id for tenant changes. */
  public String recordKey() {
    return keyId != null ? keyId : tenantId;
  }

  public KeyEvent toProto() {
    KeyEvent.Builder b =
        KeyEvent.newBuilder().setKind(kind).setTenantId(tenantId).setAtUnixMs(at.toEpochMilli());
    if (keyId != null) {
      b.setKeyId(keyId);
    }
    return b.build();
  }
}
