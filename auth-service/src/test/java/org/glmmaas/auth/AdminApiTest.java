package org.glmmaas.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.glmmaas.auth.credential.LastUsedRecorder;
import org.glmmaas.auth.support.AdminClient;
import org.glmmaas.auth.support.AuthServiceTestBase;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.glmmaas.proto.auth.v1.Principal;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/** The admin HTTP API as the launcher, the gateway's tests and operators call it. */
class AdminApiTest extends AuthServiceTestBase {

  @Autowired LastUsedRecorder lastUsed;

  @Autowired
  @Qualifier("requestMappingHandlerMapping")
  RequestMappingHandlerMapping mappings;

  private static String errorCode(AdminClient.Response r) {
    return r.json().get("error").get("code").stringValue();
  }

  private static String errorMessage(AdminClient.Response r) {
    return r.json().get("error").get("message").stringValue();
  }

  @Test
  void needsTheAdminTokenAndNeverATenantKey() {
    String apiKey = newKey(newTenant()).get("api_key").stringValue();
    for (String bearer : new String[] {null, "wrong-token-0123456789", apiKey, ADMIN_TOKEN + "x"}) {
      AdminClient.Response r = admin.call("GET", "/admin/v1/tenants", null, bearer);
      assertThat(r.status()).as(String.valueOf(bearer)).isEqualTo(401);
      assertThat(errorCode(r)).isEqualTo("unauthorized");
    }
    assertThat(admin.call("GET", "/admin/v1/tenants", null).status()).isEqualTo(200);
  }

  @Test
  void badInputGetsA4xxWithAPreciseMessage() {
    AdminClient.Response r = admin.call("POST", "/admin/v1/tenants", Map.of());
    assertThat(r.status()).isEqualTo(400);
    assertThat(errorCode(r)).isEqualTo("invalid_request");
    assertThat(errorMessage(r)).contains("name is required");

    r = admin.call("POST", "/admin/v1/tenants", Map.of("name", "x", "rpm", 5));
    assertThat(r.status()).isEqualTo(400);
    assertThat(errorMessage(r)).contains("unknown field(s) [rpm]");

    r = admin.call("POST", "/admin/v1/tenants", "{\"name\":");
    assertThat(r.status()).isEqualTo(400);
    assertThat(errorMessage(r)).contains("not a valid JSON");

    String tenant = newTenant();
    r =
        admin.call(
            "POST",
            "/admin/v1/tenants/" + tenant + "/keys",
            Map.of("name", "k", "requests_per_minute", -1));
    assertThat(r.status()).isEqualTo(400);
    assertThat(errorMessage(r)).contains("requests_per_minute must be >= 0");

    r =
        admin.call(
            "POST",
            "/admin/v1/tenants/" + tenant + "/keys",
            Map.of("name", "k", "allowed_models", "glm-4"));
    assertThat(errorMessage(r)).contains("allowed_models must be an array of strings");

    r =
        admin.call(
            "POST",
            "/admin/v1/tenants/" + tenant + "/keys",
            Map.of("name", "k", "expires_at", "tomorrow"));
    assertThat(errorMessage(r)).contains("expires_at must be an ISO-8601");

    r =
        admin.call(
            "POST",
            "/admin/v1/tenants/" + tenant + "/keys",
            Map.of("name", "k", "expires_at", Instant.now().minusSeconds(60).toString()));
    assertThat(errorMessage(r)).contains("not in the future");

    r = admin.call("PATCH", "/admin/v1/tenants/" + tenant, Map.of("status", "BANNED"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(errorMessage(r)).contains("ACTIVE or SUSPENDED");

    r = admin.call("GET", "/admin/v1/tenants/no-such-tenant", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(errorCode(r)).isEqualTo("not_found");
    assertThat(admin.call("POST", "/admin/v1/keys/nosuchkey/revoke", null).status()).isEqualTo(404);
    assertThat(
            admin
                .call("POST", "/admin/v1/tenants/no-such-tenant/keys", Map.of("name", "k"))
                .status())
        .isEqualTo(404);

    r = admin.call("GET", "/admin/v1/nope", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(errorCode(r)).isEqualTo("not_found");
    r = admin.call("DELETE", "/admin/v1/tenants", null);
    assertThat(r.status()).isEqualTo(405);
    assertThat(errorCode(r)).isEqualTo("method_not_allowed");

    String name =
        admin.ok("GET", "/admin/v1/tenants/" + tenant, null, 200).get("name").stringValue();
    r = admin.call("POST", "/admin/v1/tenants", Map.of("name", name));
    assertThat(r.status()).isEqualTo(409);
    assertThat(errorCode(r)).isEqualTo("conflict");
  }

  @Test
  void scopeLimitsAndExpiryChangesReachTheNextAuthenticateAtOnce() {
    String tenant = newTenant();
    JsonNode key = newKey(tenant);
    String keyId = key.get("key_id").stringValue();
    String apiKey = key.get("api_key").stringValue();
    assertThat(authenticate(apiKey).getPrincipal().getAllowedModelsList()).isEmpty();

    Map<String, Object> patch = new HashMap<>();
    patch.put("allowed_models", List.of("glm-4-9b-chat", "glm-4-flash"));
    patch.put("tokens_per_minute", 5000);
    patch.put("max_concurrency", 2);
    patch.put("expires_at", "2099-01-01T00:00:00Z");
    JsonNode updated = admin.ok("PATCH", "/admin/v1/keys/" + keyId, patch, 200);
    assertThat(updated.get("expires_at").stringValue()).isEqualTo("2099-01-01T00:00:00Z");
    Principal p = authenticate(apiKey).getPrincipal();
    assertThat(p.getAllowedModelsList()).containsExactly("glm-4-9b-chat", "glm-4-flash");
    assertThat(p.getKeyLimits().getTokensPerMinute()).isEqualTo(5000);
    assertThat(p.getKeyLimits().getMaxConcurrency()).isEqualTo(2);
    assertThat(p.getKeyExpiresAtUnixMs())
        .isEqualTo(Instant.parse("2099-01-01T00:00:00Z").toEpochMilli());

    Map<String, Object> clear = new HashMap<>();
    clear.put("expires_at", null);
    assertThat(admin.ok("PATCH", "/admin/v1/keys/" + keyId, clear, 200).get("expires_at").isNull())
        .isTrue();
    assertThat(authenticate(apiKey).getPrincipal().getKeyExpiresAtUnixMs()).isZero();
  }

  @Test
  void rotateGivesANewSecretOnceAndTheOldOneStopsAtOnce() {
    JsonNode key = newKey(newTenant());
    String keyId = key.get("key_id").stringValue();
    String oldKey = key.get("api_key").stringValue();
    assertThat(authenticate(oldKey).hasPrincipal()).isTrue();
    JsonNode rotated = admin.ok("POST", "/admin/v1/keys/" + keyId + "/rotate", null, 200);
    String newKey = rotated.get("api_key").stringValue();
    assertThat(newKey).startsWith(keyId + ".").isNotEqualTo(oldKey);
    assertThat(authenticate(oldKey).getFailure().getReason())
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    assertThat(authenticate(newKey).hasPrincipal()).isTrue();

    JsonNode got = admin.ok("GET", "/admin/v1/keys/" + keyId, null, 200);
    assertThat(got.has("secret")).isFalse();
    assertThat(got.has("api_key")).isFalse();
    admin.ok("POST", "/admin/v1/keys/" + keyId + "/revoke", null, 200);
    assertThat(admin.call("POST", "/admin/v1/keys/" + keyId + "/rotate", null).status())
        .isEqualTo(409);
  }

  @Test
  void lastUsedIsRecordedInBatchesAndAdminActionsAreAudited() {
    String tenant = newTenant();
    JsonNode key = newKey(tenant);
    String keyId = key.get("key_id").stringValue();
    assertThat(admin.ok("GET", "/admin/v1/keys/" + keyId, null, 200).get("last_used_at").isNull())
        .isTrue();
    for (int i = 0; i < 50; i++) {
      assertThat(authenticate(key.get("api_key").stringValue()).hasPrincipal()).isTrue();
    }
    // 50 calls, nothing written yet; one flush writes it once
    assertThat(admin.ok("GET", "/admin/v1/keys/" + keyId, null, 200).get("last_used_at").isNull())
        .isTrue();
    assertThat(lastUsed.flush()).isGreaterThanOrEqualTo(1);
    JsonNode listed =
        admin.ok("GET", "/admin/v1/tenants/" + tenant + "/keys", null, 200).get("data").get(0);
    assertThat(listed.get("key_id").stringValue()).isEqualTo(keyId);
    assertThat(listed.get("last_used_at").isNull()).isFalse();

    admin.ok("PATCH", "/admin/v1/keys/" + keyId, Map.of("name", "renamed"), 200);
    admin.ok("POST", "/admin/v1/keys/" + keyId + "/revoke", null, 200);
    JsonNode audit = admin.ok("GET", "/admin/v1/audit?target_id=" + keyId, null, 200).get("data");
    List<String> actions = new java.util.ArrayList<>();
    audit.forEach(e -> actions.add(e.get("action").stringValue()));
    assertThat(actions).containsExactly("key.revoke", "key.update", "key.create");
  }

  @Test
  void openApiIsServedWithoutATokenAndDescribesEveryAdminEndpoint() {
    AdminClient.Response r = admin.call("GET", "/admin/v1/openapi.yaml", null, null);
    assertThat(r.status()).isEqualTo(200);
    Set<String> documented = new TreeSet<>();
    for (String line : r.body().split("\n")) {
      if (line.startsWith("  /admin/")) {
        documented.add(line.strip().replace(":", "").replaceAll("\\{[^}]+}", "{}"));
      }
    }
    Set<String> served = new TreeSet<>();
    mappings
        .getHandlerMethods()
        .keySet()
        .forEach(
            info ->
                info.getPatternValues().stream()
                    .filter(p -> p.startsWith("/admin/"))
                    .forEach(p -> served.add(p.replaceAll("\\{[^}]+}", "{}"))));
    assertThat(served).isNotEmpty();
    assertThat(documented).isEqualTo(served);
  }
}
