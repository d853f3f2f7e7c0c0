package org.glmmaas.worker.scheduler;

/**
 * Who a request is for, carried into its usage event.
 *
 * @param model model id served
 * @param tenantId tenant (also the prefix-cache salt)
 * @param keyId API key public id
 * @param userId end-user id the client passed, or ""
 * @param traceId W3C trace id (32 hex), or ""
 * @param billable false for internal requests (warm-up) that publish no usage
 * @param batchId the batch job this request is a line of, or ""
 */
public record RequestMetadata(
    String model,
    String tenantId,
    String keyId,
    String userId,
    String traceId,
    boolean billable,
    String batchId) {

  /** An interactive request's metadata (no batch). */
  public RequestMetadata(
      String model,
      String tenantId,
      String keyId,
      String userId,
      String traceId,
      boolean billable) {
    this(model, tenantId, keyId, userId, traceId, billable, "");
  }

  public RequestMetadata {
    batchId = nz(batchId);
    model = nz(model);
    tenantId = nz(tenantId);
    keyId = nz(keyId);
    userId = nz(userId);
    traceId = nz(traceId);
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
