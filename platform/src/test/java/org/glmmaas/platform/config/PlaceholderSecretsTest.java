package org.glmmaas.platform.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/** The example files' placeholders never become a deployment's secrets. */
class PlaceholderSecretsTest {

  @Test
  void examplePlaceholdersAndEmptyValuesAreRefusedNamingTheKey() {
    for (String v :
        new String[] {
          "change-me-billing",
          "CHANGE_ME",
          "changeme-admin-token-000",
          "REPLACE-WITH-openssl-rand-base64-32",
          "<your token>",
          "",
          "  ",
          "xxxxxxxxxxxxxxxxxxxx"
        }) {
      assertThat(PlaceholderSecrets.isPlaceholder(v)).as(v).isTrue();
    }
    assertThatThrownBy(
            () -> PlaceholderSecrets.check("glm.billing.admin-token", "change-me-billing"))
        .hasMessageStartingWith("glm.billing.admin-token is a placeholder");
    assertThat(PlaceholderSecrets.isPlaceholder("q2Lw9-Xb7pPz0cK4vN1sT8eR5yU3iO6a")).isFalse();
  }

  /** Billing accepted {@code change-me-billing} as its admin token before. */
  @Test
  void aServiceStartedWithAPlaceholderSecretStopsNamingTheKey() {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .addFirst(
            new MapPropertySource(
                "systemEnvironment-like",
                Map.of(
                    "GLM_BILLING_ADMINTOKEN", "change-me-billing",
                    "GLM_GATEWAY_WORKERS", "change-me-is-not-a-secret-key:9083")));
    env.getPropertySources()
        .addFirst(
            new MapPropertySource(
                "commandLineArgs",
                Map.of(
                    "glm.auth.master-key", "REPLACE-WITH-openssl-rand-base64-32",
                    "glm.auth.admin-token", "q2Lw9-Xb7pPz0cK4vN1sT8eR5yU3iO6a",
                    "glm.gateway.admin.token", "")));
    assertThatThrownBy(
            () -> new SecretSettingsCheck().postProcessEnvironment(env, new SpringApplication()))
        .hasMessageContaining("glm.auth.master-key")
        .hasMessageContaining("GLM_BILLING_ADMINTOKEN")
        .hasMessageNotContaining("glm.auth.admin-token")
        .hasMessageNotContaining("GLM_GATEWAY_WORKERS")
        .hasMessageNotContaining("q2Lw9");
  }

  @Test
  void realSecretsAndUnsetKeysPass() {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .addFirst(
            new MapPropertySource(
                "commandLineArgs",
                Map.<String, Object>of(
                    "glm.service-identity.secret", "q2Lw9-Xb7pPz0cK4vN1sT8eR5yU3iO6a",
                    "spring.datasource.password", "s3cr3t-Db-pw")));
    new SecretSettingsCheck().postProcessEnvironment(env, new SpringApplication());
  }
}
