package org.glmmaas.auth.tenant;

import java.time.Instant;

/** A customer organisation owning API keys. */
public record Tenant(
    String id,
    String name,
    TenantStatus status,
    Limits limits,
    Instant createdAt,
    Instant updatedAt) {}
