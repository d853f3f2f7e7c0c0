package org.glmmaas.auth.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.glmmaas.auth.AuthServiceApplication;
import org.glmmaas.auth.crypto.MasterKeyring;
import org.glmmaas.auth.crypto.SecretCodec;
import org.glmmaas.auth.support.AdminClient;
import org.glmmaas.auth.support.SdkJwt;
import org.glmmaas.platform.grpc.GrpcServer;
import org.glmmaas.platform.test.TestPostgres;
import org.glmmaas.proto.auth.v1.AuthServiceGrpc;
import org.glmmaas.proto.auth.v1.AuthenticateRequest;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * The documented rotation procedure, run as an operator would, restarting the service on one
 * database: (1) only key v1; (2) add v2 (new secrets go under v2, old ones still work), call
 * rotate-master-key; (3) remove v1: every key still works. Forgetting a version in use stops
 * start-up with a clear message (checked on the last run's database).
 */
class MasterKeyRotationTest {

  static final String TOKEN = "rotation-admin-token-0123456789";
  static final String K1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
  static final String K2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
  static final String K3 = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

  final String dbUrl = TestPostgres.newDatabase("rotation_test");

  ConfigurableApplicationContext start(String... masterKeys) {
    List<String> props =
        new ArrayList<>(
            List.of(
                "spring.datasource.url=" + dbUrl,
                "spring.datasource.username=postgres",
                "server.port=0",
                "glm.auth.grpc.port=0",
                "glm.auth.admin-token=" + TOKEN,
                "glm.auth.data-dir=target/rotation-data"));
    for (int i = 0; i < masterKeys.length; i++) {
      String[] vk = masterKeys[i].split(":");
      props.add("glm.auth.master-keys[" + i + "].version=" + vk[0]);
      props.add("glm.auth.master-keys[" + i + "].key=" + vk[1]);
    }
    return new SpringApplicationBuilder(AuthServiceApplication.class)
        .properties(props.toArray(String[]::new))
        .run();
  }

  static AdminClient admin(ConfigurableApplicationContext ctx) {
    return new AdminClient(((WebServerApplicationContext) ctx).getWebServer().getPort(), TOKEN);
  }

  static void assertAuthenticates(ConfigurableApplicationContext ctx, String apiKey)
      throws InterruptedException {
    ManagedChannel ch =
        ManagedChannelBuilder.forAddress("127.0.0.1", ctx.getBean(GrpcServer.class).port())
            .usePlaintext()
            .build();
    try {
      var stub = AuthServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
      for (String credential :
          List.of(apiKey, SdkJwt.python(apiKey, System.currentTimeMillis(), 60))) {
        var r =
            stub.authenticate(AuthenticateRequest.newBuilder().setCredential(credential).build());
        assertThat(r.hasPrincipal()).as("%s", r.getFailure()).isTrue();
      }
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static List<Integer> versions(ConfigurableApplicationContext ctx) {
    return ctx.getBean(JdbcClient.class)
        .sql("SELECT master_key_version FROM api_keys ORDER BY created_at")
        .query(Integer.class)
        .list();
  }

  @Test
  void rotatingTheMasterKeyKeepsEveryKeyWorkingAndRetiresTheOldVersion() throws Exception {
    String oldKey;
    try (var ctx = start("1:" + K1)) {
      AdminClient admin = admin(ctx);
      String tenant = admin.createTenant("rotation").get("id").stringValue();
      oldKey = admin.createKey(tenant, Map.of("name", "old")).get("api_key").stringValue();
      assertAuthenticates(ctx, oldKey);
    }
    String newKey;
    try (var ctx = start("1:" + K1, "2:" + K2)) {
      AdminClient admin = admin(ctx);
      assertAuthenticates(ctx, oldKey);
      String tenant =
          admin
              .ok("GET", "/admin/v1/tenants", null, 200)
              .get("data")
              .get(0)
              .get("id")
              .stringValue();
      newKey = admin.createKey(tenant, Map.of("name", "new")).get("api_key").stringValue();
      assertThat(versions(ctx)).containsExactly(1, 2);
      JsonNode result = admin.ok("POST", "/admin/v1/maintenance/rotate-master-key", null, 200);
      assertThat(result.get("master_key_version").intValue()).isEqualTo(2);
      assertThat(result.get("num_reencrypted").intValue()).isEqualTo(1);
      assertThat(versions(ctx)).containsExactly(2, 2);
      assertAuthenticates(ctx, oldKey);
      assertAuthenticates(ctx, newKey);
    }
    try (var ctx = start("2:" + K2)) {
      assertAuthenticates(ctx, oldKey);
      assertAuthenticates(ctx, newKey);
      // the start-up check that refuses a configuration missing a version still in use
      var forgotV2 =
          new MasterKeyRotation(
              ctx.getBean(ApiKeyRepository.class),
              new SecretCodec(new MasterKeyring(Map.of(3, Base64.getDecoder().decode(K3)))),
              null,
              null);
      assertThatThrownBy(forgotV2::afterSingletonsInstantiated)
          .hasMessageContaining("master key version(s) [2] which are not configured");
    }
  }
}
