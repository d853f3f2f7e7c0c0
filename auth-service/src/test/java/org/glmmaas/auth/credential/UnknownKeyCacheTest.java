package org.glmmaas.auth.credential;

import static org.assertj.core.api.Assertions.assertThat;

import org.glmmaas.auth.support.AuthServiceTestBase;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Unknown key ids do not reach the database every time: the first read finds the id unknown and the
 * answer is remembered (by hash, bounded) for the key cache's TTL; real keys still work.
 */
class UnknownKeyCacheTest extends AuthServiceTestBase {

  @Autowired KeyCache keys;

  @Test
  void anUnknownKeyIdIsReadFromTheDatabaseOncePerTtl() {
    String credential = "kmadeup" + System.nanoTime() + ".some-secret";
    long before = keys.loads();
    for (int i = 0; i < 20; i++) {
      assertThat(authenticate(credential).getFailure().getReason())
          .isEqualTo(AuthFailureReason.UNKNOWN_KEY);
    }
    assertThat(keys.loads()).isEqualTo(before + 1);
    assertThat(keys.unknownCount()).isPositive().isLessThanOrEqualTo(KeyCache.MAX_UNKNOWN);

    // a real key is unaffected
    String tenant = newTenant();
    String key = newKey(tenant).get("api_key").stringValue();
    assertThat(authenticate(key).getPrincipal().getTenantId()).isEqualTo(tenant);
  }
}
