package org.glmmaas.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.glmmaas.proto.auth.v1.Limits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Two limiter instances with their own Redis connections — what two gateway replicas have —
 * hammered concurrently: never more admitted than the limit. Skipped when no Redis runs locally.
 */
class RedisRateLimiterTest {

  static LettuceConnectionFactory f1;
  static LettuceConnectionFactory f2;
  static RedisRateLimiter g1;
  static RedisRateLimiter g2;

  @BeforeAll
  static void connect() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 6379), 500);
    } catch (Exception e) {
      Assumptions.assumeTrue(false, "no Redis at 127.0.0.1:6379");
    }
    String prefix = "glm:test:" + UUID.randomUUID() + ":";
    f1 = factory();
    f2 = factory();
    g1 = new RedisRateLimiter(new ReactiveStringRedisTemplate(f1), prefix);
    g2 = new RedisRateLimiter(new ReactiveStringRedisTemplate(f2), prefix);
  }

  static LettuceConnectionFactory factory() {
    LettuceConnectionFactory f =
        new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", 6379));
    f.afterPropertiesSet();
    f.start();
    return f;
  }

  @AfterAll
  static void close() {
    if (f1 != null) {
      f1.destroy();
      f2.destroy();
    }
  }

  static RateLimiter.Request req(String key, Limits kl, Limits tl, long tokens, Duration ttl) {
    return new RateLimiter.Request(
        key, kl, "tenant-" + key, tl, tokens, UUID.randomUUID().toString(), ttl);
  }

  /** Fires n admissions alternating between the two replicas, all at once. */
  static List<RateLimiter.Admission> storm(
      int n, java.util.function.IntFunction<RateLimiter.Request> r) {
    List<Mono<RateLimiter.Admission>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RateLimiter lim = i % 2 == 0 ? g1 : g2;
      RateLimiter.Request q = r.apply(i);
      calls.add(Mono.defer(() -> lim.admit(q)).subscribeOn(Schedulers.parallel()));
    }
    return Flux.merge(calls).collectList().block(Duration.ofSeconds(30));
  }

  @Test
  void concurrencyLimitHoldsAcrossTwoReplicas() {
    String key = "conc-" + UUID.randomUUID();
    Limits kl = Limits.newBuilder().setMaxConcurrency(5).build();
    List<RateLimiter.Admission> res =
        storm(400, i -> req(key, kl, Limits.getDefaultInstance(), 1, Duration.ofMinutes(1)));
    assertThat(res.stream().filter(RateLimiter.Admission::admitted).count()).isEqualTo(5);
    assertThat(res.stream().filter(a -> !a.admitted()).map(a -> a.denied().bigModelCode()))
        .containsOnly("1302");
  }

  @Test
  void requestsPerMinuteHoldAcrossTwoReplicasForKeyAndTenant() {
    String key = "rpm-" + UUID.randomUUID();
    long t0 = System.nanoTime();
    List<RateLimiter.Admission> res =
        storm(
            500,
            i ->
                req(
                    key + (i % 4 == 0 ? "x" : ""),
                    Limits.newBuilder().setRequestsPerMinute(100).build(),
                    Limits.newBuilder().setRequestsPerMinute(60).build(),
                    1,
                    Duration.ofMinutes(1)));
    double secs = (System.nanoTime() - t0) / 1e9;
    long admitted = res.stream().filter(RateLimiter.Admission::admitted).count();
    // two keys of two tenants: each tenant allows 60 (+ refill during the storm)
    long refill = (long) Math.ceil(secs * 60 / 60.0);
    assertThat(admitted).isBetween(120L - 2, 120L + 2 * refill);
  }

  @Test
  void tokensPerMinuteHoldAndAreSettledOnRelease() {
    String key = "tpm-" + UUID.randomUUID();
    Limits kl = Limits.newBuilder().setTokensPerMinute(10_000).build();
    List<RateLimiter.Request> reqs = new ArrayList<>();
    List<RateLimiter.Admission> res =
        storm(
            100,
            i -> {
              RateLimiter.Request r =
                  req(key, kl, Limits.getDefaultInstance(), 1000, Duration.ofMinutes(1));
              synchronized (reqs) {
                reqs.add(r);
              }
              return r;
            });
    assertThat(res.stream().filter(RateLimiter.Admission::admitted).count()).isBetween(10L, 11L);
    // a call that used far fewer tokens than estimated gives the rest back
    RateLimiter.Request any =
        req(key, kl, Limits.getDefaultInstance(), 1000, Duration.ofMinutes(1));
    g1.release(
            new RateLimiter.Request(
                key, kl, any.tenantId(), kl, 1000, "gone", Duration.ofMinutes(1)),
            0)
        .block();
    assertThat(g2.admit(any).block().admitted()).isTrue();
  }

  @Test
  void aCrashedReplicasLeasesExpire() throws Exception {
    String key = "lease-" + UUID.randomUUID();
    Limits kl = Limits.newBuilder().setMaxConcurrency(2).build();
    Duration ttl = Duration.ofMillis(400);
    assertThat(g1.admit(req(key, kl, Limits.getDefaultInstance(), 1, ttl)).block().admitted())
        .isTrue();
    assertThat(g1.admit(req(key, kl, Limits.getDefaultInstance(), 1, ttl)).block().admitted())
        .isTrue();
    // replica 1 "crashes" without releasing: replica 2 is refused until the leases expire
    assertThat(g2.admit(req(key, kl, Limits.getDefaultInstance(), 1, ttl)).block().admitted())
        .isFalse();
    Thread.sleep(600);
    RateLimiter.Request r = req(key, kl, Limits.getDefaultInstance(), 1, Duration.ofMinutes(1));
    assertThat(g2.admit(r).block().admitted()).isTrue();
    // and a released lease frees its slot at once
    RateLimiter.Request r2 = req(key, kl, Limits.getDefaultInstance(), 1, Duration.ofMinutes(1));
    assertThat(g2.admit(r2).block().admitted()).isTrue();
    assertThat(g1.admit(req(key, kl, Limits.getDefaultInstance(), 1, ttl)).block().admitted())
        .isFalse();
    g1.release(r, -1).block();
    assertThat(g1.admit(req(key, kl, Limits.getDefaultInstance(), 1, ttl)).block().admitted())
        .isTrue();
  }

  @Test
  void headersReportTheKeysState() {
    String key = "hdr-" + UUID.randomUUID();
    Limits kl = Limits.newBuilder().setRequestsPerMinute(10).setTokensPerMinute(1000).build();
    RateLimiter.Admission a =
        g1.admit(req(key, kl, Limits.getDefaultInstance(), 100, Duration.ofMinutes(1))).block();
    assertThat(a.headers().limitRequests()).isEqualTo(10);
    assertThat(a.headers().remainingRequests()).isEqualTo(9);
    assertThat(a.headers().remainingTokens()).isEqualTo(900);
    assertThat(RateLimiter.formatReset(a.headers().resetRequests())).isEqualTo("6s");
  }
}
