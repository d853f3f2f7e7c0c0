package org.glmmaas.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.ServerSocket;
import java.time.Duration;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.proto.auth.v1.Limits;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/** With Redis unreachable, a call is refused as unavailable (503, retry), not an internal error. */
class RedisDownTest {

  @Test
  void anUnreachableRedisIsA503() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    LettuceConnectionFactory f =
        new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
    f.afterPropertiesSet();
    f.start();
    try {
      RedisRateLimiter limiter = new RedisRateLimiter(new ReactiveStringRedisTemplate(f), "glm:t:");
      Limits l = Limits.newBuilder().setRequestsPerMinute(10).build();
      Throwable t =
          catchThrowable(
              () ->
                  limiter
                      .admit(
                          new RateLimiter.Request(
                              "k", l, "t", l, 10, "lease-1", Duration.ofSeconds(60)))
                      .block(Duration.ofSeconds(30)));
      assertThat(t).isInstanceOf(GlmException.class);
      GlmError e = ((GlmException) t).error();
      assertThat(e).isInstanceOf(GlmError.Unavailable.class);
      assertThat(e.httpStatus()).isEqualTo(503);
    } finally {
      f.destroy();
    }
  }
}
