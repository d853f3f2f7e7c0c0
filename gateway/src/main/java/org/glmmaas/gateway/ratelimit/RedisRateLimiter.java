package org.glmmaas.gateway.ratelimit;

import java.time.Duration;
import java.util.List;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.proto.auth.v1.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Mono;

/**
 * Limits shared by all gateway replicas: one Lua script admits atomically against both scopes using
 * Redis' own clock, so replicas with skewed clocks agree. Lease sets hold each in-flight permit
 * with an expiry score: a replica that dies without releasing loses its permits at expiry.
 */
public final class RedisRateLimiter implements RateLimiter {

  private static final Logger log = LoggerFactory.getLogger(RedisRateLimiter.class);

  @SuppressWarnings("rawtypes")
  private static final RedisScript<List> ADMIT =
      RedisScript.of(new ClassPathResource("ratelimit/admit.lua"), List.class);

  @SuppressWarnings("rawtypes")
  private static final RedisScript<List> RELEASE =
      RedisScript.of(new ClassPathResource("ratelimit/release.lua"), List.class);

  private final ReactiveStringRedisTemplate redis;
  private final String prefix;

  public RedisRateLimiter(ReactiveStringRedisTemplate redis, String prefix) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private List<String> keys(Request r) {
    String k = prefix + "{k:" + r.keyId() + "}";
    String t = prefix + "{t:" + r.tenantId() + "}";
    return List.of(k + ":rpm", k + ":tpm", k + ":conc", t + ":rpm", t + ":tpm", t + ":conc");
  }

  @Override
  public Mono<Admission> admit(Request r) {
    Limits kl = r.keyLimits();
    Limits tl = r.tenantLimits();
    List<String> args =
        List.of(
            Long.toString(r.tokens()),
            r.leaseId(),
            Long.toString(r.leaseTtl().toMillis()),
            Long.toString(kl.getRequestsPerMinute()),
            Long.toString(kl.getTokensPerMinute()),
            Long.toString(kl.getMaxConcurrency()),
            Long.toString(tl.getRequestsPerMinute()),
            Long.toString(tl.getTokensPerMinute()),
            Long.toString(tl.getMaxConcurrency()));
    return redis
        .execute(ADMIT, keys(r), args)
        .next()
        .map(
            res -> {
              if (num(res.get(0)) == 1) {
                int scope = (int) num(res.get(1));
                Limits l = scope == 0 ? kl : tl;
                Headers h =
                    l.getRequestsPerMinute() > 0 || l.getTokensPerMinute() > 0
                        ? headers(l, num(res.get(2)), num(res.get(3)), 0)
                        : null;
                return new Admission(null, h);
              }
              int scope = (int) num(res.get(1));
              String kind = String.valueOf(res.get(2));
              long retry = num(res.get(3));
              GlmError err = Denials.of(kind, scope, retry);
              Limits l = scope == 0 ? kl : tl;
              return new Admission(err, headers(l, num(res.get(4)), num(res.get(5)), retry));
            })
        .onErrorMap(
            e -> !(e instanceof org.glmmaas.gateway.error.GlmException),
            e -> {
              // Redis down or failing: the limits cannot be checked, so the call is refused as
              // unavailable (503 + Retry-After), not as an internal error
              log.warn("rate-limit store failed: {}", e.toString());
              return new org.glmmaas.gateway.error.GlmException(
                  new GlmError.Unavailable(
                      "the rate-limit store is unavailable, retry shortly", Duration.ofSeconds(1)));
            });
  }

  private static long num(Object o) {
    return o instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(o));
  }

  private static Headers headers(Limits l, long reqLeft, long tokLeft, long ignored) {
    long rpm = l.getRequestsPerMinute();
    long tpm = l.getTokensPerMinute();
    return new Headers(
        rpm,
        reqLeft,
        Duration.ofMillis(rpm == 0 ? 0 : (rpm - reqLeft) * 60000 / rpm),
        tpm,
        tokLeft,
        Duration.ofMillis(tpm == 0 ? 0 : (tpm - tokLeft) * 60000 / tpm));
  }

  @Override
  public Mono<Void> release(Request r, long actualTokens) {
    long k = r.keyLimits().getTokensPerMinute();
    long t = r.tenantLimits().getTokensPerMinute();
    List<String> args =
        List.of(
            r.leaseId(),
            Long.toString(Math.min(r.tokens(), k)),
            Long.toString(Math.min(r.tokens(), t)),
            Long.toString(actualTokens),
            Long.toString(k),
            Long.toString(t));
    return redis.execute(RELEASE, keys(r), args).then();
  }
}
