package org.glmmaas.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * The admin routes of auth-service and billing-service the launcher calls to make the demo tenant.
 */
final class AdminApi {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final URI authUrl;
  private final String authToken;
  private final URI billingUrl;
  private final String billingToken;

  AdminApi(URI authUrl, String authToken, URI billingUrl, String billingToken) {
    this.authUrl = authUrl;
    this.authToken = authToken;
    this.billingUrl = billingUrl;
    this.billingToken = billingToken;
  }

  String createTenant(String name) throws IOException, InterruptedException {
    return field(post(authUrl.resolve("/admin/v1/tenants"), authToken, Map.of("name", name)), "id");
  }

  LauncherState.Demo createKey(String tenantId, String name)
      throws IOException, InterruptedException {
    Map<?, ?> r =
        post(
            authUrl.resolve("/admin/v1/tenants/" + tenantId + "/keys"),
            authToken,
            Map.of("name", name));
    return new LauncherState.Demo(tenantId, field(r, "key_id"), field(r, "api_key"));
  }

  void topUp(String tenantId, long amountMicros, String currency)
      throws IOException, InterruptedException {
    post(
        billingUrl.resolve("/admin/v1/accounts/" + tenantId + "/top-ups"),
        billingToken,
        Map.of("amount_micros", amountMicros, "currency", currency));
  }

  /** Sets {@code model}'s price in billing's catalogue from today (idempotent). */
  void putPrice(String model, long inputMicrosPerMtok, long outputMicrosPerMtok)
      throws IOException, InterruptedException {
    send(
        "PUT",
        billingUrl.resolve("/admin/v1/prices/" + model),
        billingToken,
        Map.of(
            "input_micros_per_mtok",
            inputMicrosPerMtok,
            "output_micros_per_mtok",
            outputMicrosPerMtok));
  }

  private static Map<?, ?> post(URI uri, String token, Map<String, Object> body)
      throws IOException, InterruptedException {
    return send("POST", uri, token, body);
  }

  private static Map<?, ?> send(String method, URI uri, String token, Map<String, Object> body)
      throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .method(
                method,
                HttpRequest.BodyPublishers.ofString(LauncherState.JSON.writeValueAsString(body)))
            .build();
    HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      // The body is an error envelope from our own service; it never echoes the token.
      throw new IOException(
          method
              + " "
              + uri.getPath()
              + " answered "
              + r.statusCode()
              + ": "
              + abbreviate(r.body()));
    }
    String text = r.body() == null || r.body().isBlank() ? "{}" : r.body();
    return LauncherState.JSON.readValue(text, Map.class);
  }

  private static String field(Map<?, ?> response, String name) throws IOException {
    Object v = response.get(name);
    if (v == null || v.toString().isBlank()) {
      throw new IOException(
          "admin API response has no '" + name + "' (fields: " + response.keySet() + ")");
    }
    return v.toString();
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
