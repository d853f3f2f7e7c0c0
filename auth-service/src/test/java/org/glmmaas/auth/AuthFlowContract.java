package org.glmmaas.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.glmmaas.auth.support.AuthServiceTestBase;
import org.glmmaas.auth.support.SdkJwt;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.glmmaas.proto.auth.v1.AuthenticateResponse;
import org.glmmaas.proto.auth.v1.Principal;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * What a client and an admin notice, end to end over HTTP and gRPC against a real PostgreSQL: run
 * on the embedded PostgreSQL here and on a Testcontainers PostgreSQL where Docker exists.
 */
public abstract class AuthFlowContract extends AuthServiceTestBase {

  private static Principal granted(AuthenticateResponse r) {
    assertThat(r.hasPrincipal()).as("granted, but got %s", r.getFailure()).isTrue();
    return r.getPrincipal();
  }

  private static AuthFailureReason refused(AuthenticateResponse r) {
    assertThat(r.hasFailure()).as("refused, but got a principal").isTrue();
    assertThat(r.getFailure().getMessage()).isNotBlank();
    return r.getFailure().getReason();
  }

  @Test
  void aRequestFarLargerThanAnyCredentialIsRefusedBeforeItIsParsed() {
    // glm.auth.grpc.max-inbound-message-size: 64KB (application.yaml)
    assertThatThrownBy(() -> authenticate("Bearer " + "a".repeat(100_000)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(refused(authenticate("Bearer " + "a".repeat(5_000)))).isNotNull();
  }

  @Test
  void createAuthenticateWithRawKeyAndSdkJwtsThenRevokeRefuses() {
    String tenant = newTenant();
    JsonNode key =
        admin.createKey(
            tenant,
            Map.of(
                "name",
                "prod",
                "allowed_models",
                List.of("glm-4-9b-chat"),
                "requests_per_minute",
                60,
                "tokens_per_minute",
                100000,
                "max_concurrency",
                4));
    String apiKey = key.get("api_key").stringValue();
    String keyId = key.get("key_id").stringValue();
    assertThat(apiKey).isEqualTo(keyId + "." + key.get("secret").stringValue());
    long now = System.currentTimeMillis();

    for (String credential :
        List.of(
            "Bearer " + apiKey,
            apiKey,
            "bearer  " + apiKey + " ",
            "Bearer " + SdkJwt.python(apiKey, now, 180),
            SdkJwt.python(apiKey, now, 180),
            "Bearer " + SdkJwt.node(apiKey, now, 3600),
            "Bearer " + SdkJwt.nodeMicros(apiKey, now, 3600))) {
      Principal p = granted(authenticate(credential));
      assertThat(p.getKeyId()).isEqualTo(keyId);
      assertThat(p.getTenantId()).isEqualTo(tenant);
      assertThat(p.getAllowedModelsList()).containsExactly("glm-4-9b-chat");
      assertThat(p.getKeyLimits().getRequestsPerMinute()).isEqualTo(60);
      assertThat(p.getKeyLimits().getTokensPerMinute()).isEqualTo(100000);
      assertThat(p.getKeyLimits().getMaxConcurrency()).isEqualTo(4);
      assertThat(p.getCacheTtlMs()).isBetween(1, 5000);
      assertThat(p.getKeyExpiresAtUnixMs()).isZero();
    }

    JsonNode revoked = admin.ok("POST", "/admin/v1/keys/" + keyId + "/revoke", null, 200);
    assertThat(revoked.get("status").stringValue()).isEqualTo("REVOKED");
    assertThat(refused(authenticate("Bearer " + apiKey))).isEqualTo(AuthFailureReason.REVOKED);
    assertThat(refused(authenticate(SdkJwt.python(apiKey, System.currentTimeMillis(), 180))))
        .isEqualTo(AuthFailureReason.REVOKED);
  }

  @Test
  void wrongSecretAndTamperedJwtAreBadSignature() {
    JsonNode key = newKey(newTenant());
    String keyId = key.get("key_id").stringValue();
    String apiKey = key.get("api_key").stringValue();
    assertThat(refused(authenticate(keyId + ".notTheSecret0123456789")))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    String other = newKey(newTenant()).get("api_key").stringValue();
    assertThat(refused(authenticate(keyId + "." + other.split("\\.")[1])))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);

    String jwt = SdkJwt.python(apiKey, System.currentTimeMillis(), 180);
    String[] parts = jwt.split("\\.");
    // payload re-encoded with a later exp, original signature kept
    String tamperedPayload =
        SdkJwt.b64(
            ("{\"api_key\":\""
                    + keyId
                    + "\",\"exp\":"
                    + (System.currentTimeMillis() + 86_400_000L)
                    + ",\"timestamp\":"
                    + System.currentTimeMillis()
                    + "}")
                .getBytes());
    assertThat(refused(authenticate(parts[0] + "." + tamperedPayload + "." + parts[2])))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
    // signed with another key's secret
    assertThat(
            refused(
                authenticate(
                    SdkJwt.python(
                        keyId + "." + other.split("\\.")[1], System.currentTimeMillis(), 180))))
        .isEqualTo(AuthFailureReason.BAD_SIGNATURE);
  }

  @Test
  void algNoneAndAlgorithmConfusionTokensAreRefused() {
    JsonNode key = newKey(newTenant());
    String keyId = key.get("key_id").stringValue();
    String secret = key.get("secret").stringValue();
    long now = System.currentTimeMillis();
    String claims =
        "{\"api_key\":\"" + keyId + "\",\"exp\":" + (now + 60_000) + ",\"timestamp\":" + now + "}";
    String hmacOfSecret = SdkJwt.sign("{\"alg\":\"HS256\",\"sign_type\":\"SIGN\"}", claims, secret);
    String goodSignature = hmacOfSecret.substring(hmacOfSecret.lastIndexOf('.') + 1);

    List<String> forged =
        List.of(
            SdkJwt.unsigned("{\"alg\":\"none\",\"sign_type\":\"SIGN\"}", claims),
            SdkJwt.unsigned("{\"alg\":\"none\"}", claims) + goodSignature,
            SdkJwt.unsigned("{\"alg\":\"NONE\"}", claims) + goodSignature,
            SdkJwt.sign(
                "{\"alg\":\"HS512\",\"sign_type\":\"SIGN\"}",
                claims,
                secret.getBytes(),
                "HmacSHA512"),
            SdkJwt.sign("{\"alg\":\"HS384\"}", claims, secret.getBytes(), "HmacSHA384"),
            // RS256/ES256 header with an HMAC signature: the classic confusion attempt
            SdkJwt.sign("{\"alg\":\"RS256\"}", claims, secret.getBytes(), "HmacSHA256"),
            SdkJwt.sign(
                "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims, secret.getBytes(), "HmacSHA256"),
            SdkJwt.sign("{\"alg\":\"hs256\"}", claims, secret.getBytes(), "HmacSHA256"));
    for (String token : forged) {
      AuthFailureReason reason = refused(authenticate("Bearer " + token));
      assertThat(reason)
          .as(token)
          .isIn(AuthFailureReason.BAD_SIGNATURE, AuthFailureReason.MALFORMED);
    }
  }

  @Test
  void expiredJwtAndExpiredKeyAreRefusedAndMicrosecondsNeverMeanForever() {
    JsonNode key = newKey(newTenant());
    String apiKey = key.get("api_key").stringValue();
    long now = System.currentTimeMillis();
    assertThat(refused(authenticate(SdkJwt.python(apiKey, now - 3_600_000, 60))))
        .isEqualTo(AuthFailureReason.EXPIRED);
    assertThat(refused(authenticate(SdkJwt.nodeMicros(apiKey, now - 3_600_000, 60))))
        .isEqualTo(AuthFailureReason.EXPIRED);
    // an SDK sending microseconds gets the same lifetime, not "never expires"
    Principal p = granted(authenticate(SdkJwt.nodeMicros(apiKey, now, 3)));
    assertThat(p.getCacheTtlMs()).isLessThanOrEqualTo(3000);

    String tenant = newTenant();
    JsonNode shortLived =
        admin.createKey(
            tenant,
            Map.of("name", "short", "expires_at", Instant.now().plusMillis(1500).toString()));
    String shortKey = shortLived.get("api_key").stringValue();
    Principal sp = granted(authenticate(shortKey));
    assertThat(sp.getKeyExpiresAtUnixMs()).isPositive();
    assertThat(sp.getCacheTtlMs()).isLessThanOrEqualTo(1500);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(refused(authenticate(shortKey))).isEqualTo(AuthFailureReason.EXPIRED));
    assertThat(
            admin
                .ok("GET", "/admin/v1/keys/" + shortLived.get("key_id").stringValue(), null, 200)
                .get("status")
                .stringValue())
        .isEqualTo("EXPIRED");
  }

  @Test
  void suspendedTenantIsRefusedAndActivatedAgain() {
    String tenant = newTenant();
    String apiKey = newKey(tenant).get("api_key").stringValue();
    granted(authenticate(apiKey));
    JsonNode t =
        admin.ok("PATCH", "/admin/v1/tenants/" + tenant, Map.of("status", "SUSPENDED"), 200);
    assertThat(t.get("status").stringValue()).isEqualTo("SUSPENDED");
    assertThat(refused(authenticate(apiKey))).isEqualTo(AuthFailureReason.TENANT_SUSPENDED);
    assertThat(refused(authenticate(SdkJwt.python(apiKey, System.currentTimeMillis(), 60))))
        .isEqualTo(AuthFailureReason.TENANT_SUSPENDED);
    admin.ok(
        "PATCH",
        "/admin/v1/tenants/" + tenant,
        Map.of("status", "ACTIVE", "requests_per_minute", 10),
        200);
    Principal p = granted(authenticate(apiKey));
    assertThat(p.getTenantLimits().getRequestsPerMinute()).isEqualTo(10);
  }

  @Test
  void missingMalformedAndUnknownCredentialsGetPreciseReasons() {
    assertThat(refused(authenticate(""))).isEqualTo(AuthFailureReason.MISSING);
    assertThat(refused(authenticate("Bearer "))).isEqualTo(AuthFailureReason.MISSING);
    assertThat(refused(authenticate("Bearer nodot"))).isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(refused(authenticate("Bearer a.b.c.d"))).isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(refused(authenticate("Bearer !!!.$$$.%%%"))).isEqualTo(AuthFailureReason.MALFORMED);
    assertThat(refused(authenticate("Bearer 0123456789abcdef0123456789abcdef.secret")))
        .isEqualTo(AuthFailureReason.UNKNOWN_KEY);
    assertThat(
            refused(
                authenticate(
                    SdkJwt.python(
                        "0123456789abcdef0123456789abcdef.secret",
                        System.currentTimeMillis(),
                        60))))
        .isEqualTo(AuthFailureReason.UNKNOWN_KEY);
  }
}
