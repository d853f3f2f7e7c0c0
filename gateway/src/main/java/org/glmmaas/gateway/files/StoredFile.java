package org.glmmaas.gateway.files;

import org.glmmaas.gateway.error.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One uploaded file's metadata.
 *
 * @param id {@code file-} and 24 letters and digits
 * @param tenantId the owning tenant (never shown to clients)
 * @param filename the name the client gave, without any folder part
 * @param purpose {@code batch} or {@code retrieval}
 * @param bytes the content's size
 * @param createdAt upload time, Unix seconds
 */
public record StoredFile(
    String id, String tenantId, String filename, String purpose, long bytes, long createdAt) {

  String toJson() {
    ObjectNode n = Json.object();
    n.put("id", id);
    n.put("tenant_id", tenantId);
    n.put("filename", filename);
    n.put("purpose", purpose);
    n.put("bytes", bytes);
    n.put("created_at", createdAt);
    return Json.write(n);
  }

  static StoredFile fromJson(String json) {
    JsonNode n = Json.MAPPER.readTree(json);
    return new StoredFile(
        n.get("id").asString(),
        n.get("tenant_id").asString(),
        n.get("filename").asString(),
        n.get("purpose").asString(),
        n.get("bytes").asLong(),
        n.get("created_at").asLong());
  }

  /** The OpenAI/BigModel file object the SDKs parse. */
  public ObjectNode view() {
    ObjectNode n = Json.object();
    n.put("id", id);
    n.put("object", "file");
    n.put("bytes", bytes);
    n.put("created_at", createdAt);
    n.put("filename", filename);
    n.put("purpose", purpose);
    // stored files are checked before they are stored: there is no later processing step
    n.put("status", "processed");
    return n;
  }
}
