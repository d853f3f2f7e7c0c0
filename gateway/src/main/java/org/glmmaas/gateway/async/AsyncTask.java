package org.glmmaas.gateway.async;

import org.glmmaas.gateway.error.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One BigModel async task as stored.
 *
 * @param id task id
 * @param requestId the response's request_id
 * @param tenantId owner; other tenants cannot read it
 * @param model model id
 * @param status PROCESSING, SUCCESS or FAIL
 * @param createdMs creation, unix ms
 * @param result the completion body (SUCCESS) or the error body (FAIL), else null
 */
public record AsyncTask(
    String id,
    String requestId,
    String tenantId,
    String model,
    String status,
    long createdMs,
    JsonNode result) {

  public String toJson() {
    ObjectNode n = Json.object();
    n.put("id", id);
    n.put("request_id", requestId);
    n.put("tenant_id", tenantId);
    n.put("model", model);
    n.put("status", status);
    n.put("created_ms", createdMs);
    if (result != null) {
      n.set("result", result);
    }
    return Json.write(n);
  }

  public static AsyncTask fromJson(String s) {
    JsonNode n = Json.MAPPER.readTree(s);
    JsonNode r = n.get("result");
    return new AsyncTask(
        n.get("id").asString(),
        n.get("request_id").asString(),
        n.get("tenant_id").asString(),
        n.get("model").asString(),
        n.get("status").asString(),
        n.get("created_ms").asLong(),
        r == null || r.isNull() ? null : r);
  }

  public AsyncTask finish(String newStatus, JsonNode newResult) {
    return new AsyncTask(id, requestId, tenantId, model, newStatus, createdMs, newResult);
  }
}
