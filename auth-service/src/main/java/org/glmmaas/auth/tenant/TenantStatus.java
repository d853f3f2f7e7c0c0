package org.glmmaas.auth.tenant;

/** An admin suspends a tenant to refuse all its keys at once. */
public enum TenantStatus {
  ACTIVE,
  SUSPENDED
}
