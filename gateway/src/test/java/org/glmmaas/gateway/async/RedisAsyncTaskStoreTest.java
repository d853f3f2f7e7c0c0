package org.glmmaas.gateway.async;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/** Redis keeps each task result for the TTL from its last write. Skipped without Redis. */
class RedisAsyncTaskStoreTest {

  @Test
  void everyWriteSetsTheTtlAndRedisDropsTheResultWhenItRunsOut() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 6379), 500);
    } catch (Exception e) {
      Assumptions.assumeTrue(false, "no Redis at 127.0.0.1:6379");
    }
    LettuceConnectionFactory f =
        new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", 6379));
    f.afterPropertiesSet();
    f.start();
    try {
      ReactiveStringRedisTemplate redis = new ReactiveStringRedisTemplate(f);
      String tenant = "t-" + UUID.randomUUID();
      AsyncTask t =
          new AsyncTask(
              "task1", "r1", tenant, "glm-4-flash", "PROCESSING", System.currentTimeMillis(), null);
      new RedisAsyncTaskStore(redis, Duration.ofHours(24)).put(t).block();
      Duration ttl = redis.getExpire(RedisAsyncTaskStore.key(tenant, "task1")).block();
      assertThat(ttl).isBetween(Duration.ofHours(23), Duration.ofHours(24));

      RedisAsyncTaskStore shortLived = new RedisAsyncTaskStore(redis, Duration.ofMillis(300));
      shortLived.put(t.finish("SUCCESS", null)).block();
      assertThat(shortLived.get(tenant, "task1").block().status()).isEqualTo("SUCCESS");
      Thread.sleep(600);
      assertThat(shortLived.get(tenant, "task1").block()).isNull();
    } finally {
      f.destroy();
    }
  }
}
