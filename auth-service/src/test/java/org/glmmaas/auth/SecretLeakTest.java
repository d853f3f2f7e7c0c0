package org.glmmaas.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.glmmaas.auth.credential.LastUsedRecorder;
import org.glmmaas.auth.support.AuthServiceTestBase;
import org.glmmaas.auth.support.SdkJwt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * A secret is shown once, at creation or rotation, and nowhere else: not in responses, rows or
 * logs.
 */
@ExtendWith(OutputCaptureExtension.class)
class SecretLeakTest extends AuthServiceTestBase {

  @Autowired JdbcClient jdbc;
  @Autowired LastUsedRecorder lastUsed;

  @Test
  void secretsAppearNowhereButTheCreateAndRotateResponses(CapturedOutput output) {
    String tenant = newTenant();
    JsonNode created =
        admin.createKey(tenant, Map.of("name", "leak-check", "allowed_models", List.of("glm-4")));
    String keyId = created.get("key_id").stringValue();
    List<String> secrets = new ArrayList<>(List.of(created.get("secret").stringValue()));
    String firstApiKey = created.get("api_key").stringValue();

    // exercise every path that touches the secret, successful and failing, at DEBUG
    authenticate("Bearer " + firstApiKey);
    authenticate(SdkJwt.python(firstApiKey, System.currentTimeMillis(), 60));
    authenticate(keyId + "." + secrets.get(0) + "x");
    authenticate(SdkJwt.python(firstApiKey, System.currentTimeMillis() - 3_600_000, 60));
    JsonNode rotated = admin.ok("POST", "/admin/v1/keys/" + keyId + "/rotate", null, 200);
    secrets.add(rotated.get("secret").stringValue());
    authenticate(rotated.get("api_key").stringValue());
    authenticate(firstApiKey);
    admin.ok("PATCH", "/admin/v1/keys/" + keyId, Map.of("requests_per_minute", 7), 200);
    admin.ok("POST", "/admin/v1/maintenance/rotate-master-key", null, 200);
    lastUsed.flush();
    admin.ok("POST", "/admin/v1/keys/" + keyId + "/revoke", null, 200);

    List<String> responses =
        List.of(
            admin.ok("GET", "/admin/v1/keys/" + keyId, null, 200).toString(),
            admin.ok("GET", "/admin/v1/tenants/" + tenant + "/keys", null, 200).toString(),
            admin.ok("GET", "/admin/v1/audit?limit=1000", null, 200).toString());

    List<String> tables =
        jdbc.sql(
                "SELECT table_name FROM information_schema.tables "
                    + "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
            .query(String.class)
            .list();
    assertThat(tables).contains("tenants", "api_keys", "admin_audit");
    StringBuilder rows = new StringBuilder();
    for (String table : tables) {
      jdbc.sql("SELECT t::text FROM \"" + table + "\" t")
          .query(String.class)
          .list()
          .forEach(rows::append);
    }
    assertThat(rows.toString()).contains(keyId);

    for (String secret : secrets) {
      byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
      List<String> forms =
          List.of(
              secret,
              HexFormat.of().formatHex(bytes),
              Base64.getEncoder().withoutPadding().encodeToString(bytes),
              SdkJwt.b64(bytes));
      for (String form : forms) {
        assertThat(rows.toString()).as("database rows").doesNotContain(form);
        assertThat(output.getAll()).as("log output").doesNotContain(form);
        responses.forEach(
            r -> assertThat(r).as("admin responses after creation").doesNotContain(form));
      }
    }
    assertThat(output.getAll()).contains("Master key rotation");
  }
}
