package org.glmmaas.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.Map;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.proto.auth.v1.Principal;
import org.junit.jupiter.api.Test;

/**
 * Failed credentials are cached apart from good ones, bounded, and by hash: a flood of distinct bad
 * keys neither evicts a good key's principal (it stays served from memory) nor keeps the bad keys'
 * text in the gateway's heap; a repeated bad key is answered from the cache.
 */
class NegativeCacheTest {

  @Test
  void aFloodOfBadKeysNeitherEvictsGoodOnesNorIsKeptAsText() throws Exception {
    try (FakeAuthService auth = new FakeAuthService()) {
      String key =
          auth.addKey(
              "kgood",
              "secretgood",
              Principal.newBuilder().setTenantId("tg").setCacheTtlMs(600_000));
      ManagedChannel ch =
          Grpc.newChannelBuilder(auth.address(), InsecureChannelCredentials.create()).build();
      try {
        CachingAuthClient a =
            new CachingAuthClient(
                ch, Duration.ofSeconds(5), Duration.ofMinutes(10), 50, System::nanoTime);
        assertThat(a.authenticate("Bearer " + key).block().getTenantId()).isEqualTo("tg");
        int before = auth.calls.get();

        for (int i = 0; i < 200; i++) {
          String bad = "Bearer kbad" + i + ".wrong-secret-" + i;
          assertThat(catchThrowable(() -> a.authenticate(bad).block()))
              .isInstanceOf(GlmException.class);
        }
        assertThat(auth.calls.get()).isEqualTo(before + 200);
        // the same bad key again: from the negative cache, no remote call
        catchThrowable(() -> a.authenticate("Bearer kbad199.wrong-secret-199").block());
        assertThat(auth.calls.get()).isEqualTo(before + 200);
        // the good key is still cached: no remote call
        assertThat(a.authenticate("Bearer " + key).block().getTenantId()).isEqualTo("tg");
        assertThat(auth.calls.get()).isEqualTo(before + 200);
        // bounded
        assertThat(a.failureCount()).isLessThanOrEqualTo(50);
        // no credential text is kept as a cache key
        for (Field f : CachingAuthClient.class.getDeclaredFields()) {
          if (Map.class.isAssignableFrom(f.getType())) {
            f.setAccessible(true);
            for (Object k : ((Map<?, ?>) f.get(a)).keySet()) {
              assertThat(k).isNotInstanceOf(String.class);
              assertThat(k.toString()).doesNotContain("secret");
            }
          }
        }
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
