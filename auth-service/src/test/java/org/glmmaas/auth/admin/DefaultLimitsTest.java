package org.glmmaas.auth.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.UUID;
import org.glmmaas.auth.support.AuthServiceTestBase;
import org.glmmaas.proto.auth.v1.Principal;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A tenant created without limits is limited by the configured defaults (before: unlimited, so one
 * forgotten tenant could take the whole cluster); an explicit 0 still means unlimited; a new key
 * has no limits of its own by default (its tenant's apply).
 */
class DefaultLimitsTest extends AuthServiceTestBase {

  @Test
  void aTenantMadeWithoutLimitsGetsTheDefaults() {
    JsonNode t = admin.createTenant("t-" + UUID.randomUUID());
    assertThat(t.get("requests_per_minute").asInt()).isEqualTo(3000);
    assertThat(t.get("tokens_per_minute").asLong()).isEqualTo(3_000_000L);
    assertThat(t.get("max_concurrency").asInt()).isEqualTo(64);
    JsonNode key = admin.createKey(t.get("id").stringValue(), Map.of("name", "k"));
    Principal p = authenticate(key.get("api_key").stringValue()).getPrincipal();
    assertThat(p.getTenantLimits().getRequestsPerMinute()).isEqualTo(3000);
    assertThat(p.getTenantLimits().getTokensPerMinute()).isEqualTo(3_000_000L);
    assertThat(p.getTenantLimits().getMaxConcurrency()).isEqualTo(64);
    assertThat(p.getKeyLimits().getRequestsPerMinute()).isZero();
  }
}
