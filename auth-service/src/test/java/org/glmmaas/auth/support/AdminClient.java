package org.glmmaas.auth.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Calls the admin HTTP API the way the launcher and operators do. */
public final class AdminClient {

  public static final JsonMapper JSON = JsonMapper.builder().build();

  private final HttpClient http = HttpClient.newHttpClient();
  private final String base;
  private final String token;

  public AdminClient(int port, String token) {
    this.base = "http://127.0.0.1:" + port;
    this.token = token;
  }

  /** A response: status, parsed JSON (null when not JSON) and the raw body. */
  public record Response(int status, JsonNode json, String body) {}

  public Response call(String method, String path, Object body) {
    return call(method, path, body, token);
  }

  public Response call(String method, String path, Object body, String bearer) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
      if (bearer != null) {
        b.header("Authorization", "Bearer " + bearer);
      }
      if (body != null) {
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        b.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(text));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = null;
      if (r.body() != null && r.body().startsWith("{")) {
        json = JSON.readTree(r.body());
      }
      return new Response(r.statusCode(), json, r.body());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public JsonNode ok(String method, String path, Object body, int expectedStatus) {
    Response r = call(method, path, body);
    if (r.status() != expectedStatus) {
      throw new AssertionError(method + " " + path + " -> " + r.status() + " " + r.body());
    }
    return r.json();
  }

  public JsonNode createTenant(String name) {
    return ok("POST", "/admin/v1/tenants", Map.of("name", name), 201);
  }

  public JsonNode createKey(String tenantId, Map<String, Object> body) {
    return ok("POST", "/admin/v1/tenants/" + tenantId + "/keys", body, 201);
  }
}
