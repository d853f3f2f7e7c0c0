package org.glmmaas.gateway.ratelimit;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.glmmaas.proto.auth.v1.Limits;
import reactor.core.publisher.Mono;

/** The single-replica limiter: the same algorithm as {@link RedisRateLimiter}, in this JVM. */
public final class InMemoryRateLimiter implements RateLimiter {

  private final LongSupplier clockMs;
  private final Map<String, double[]> buckets = new HashMap<>(); // {tokens, lastMs}
  private final Map<String, Map<String, Long>> leases = new HashMap<>(); // scope -> lease -> expiry

  public InMemoryRateLimiter(LongSupplier clockMs) {
    this.clockMs = clockMs;
  }

  @Override
  public synchronized Mono<Admission> admit(Request r) {
    long now = clockMs.getAsLong();
    String[] ids = {"k:" + r.keyId(), "t:" + r.tenantId()};
    Limits[] limits = {r.keyLimits(), r.tenantLimits()};
    double[] reqLeft = new double[2];
    double[] tokLeft = new double[2];
    for (int s = 0; s < 2; s++) {
      Limits l = limits[s];
      if (l.getRequestsPerMinute() > 0) {
        double t = level(ids[s] + ":rpm", l.getRequestsPerMinute(), now);
        if (t < 1) {
          long wait = (long) Math.ceil((1 - t) * 60000.0 / l.getRequestsPerMinute());
          return Mono.just(
              new Admission(
                  Denials.of("requests", s, wait),
                  headers(l, 0, tokLeftOrFull(ids[s], l, now), wait)));
        }
        reqLeft[s] = t;
      }
      if (l.getTokensPerMinute() > 0) {
        double need = Math.min(r.tokens(), l.getTokensPerMinute());
        double t = level(ids[s] + ":tpm", l.getTokensPerMinute(), now);
        if (t < need) {
          long wait = (long) Math.ceil((need - t) * 60000.0 / l.getTokensPerMinute());
          return Mono.just(
              new Admission(
                  Denials.of("tokens", s, wait), headers(l, Math.floor(reqLeft[s]), t, wait)));
        }
        tokLeft[s] = t;
      }
      if (l.getMaxConcurrency() > 0) {
        Map<String, Long> ls = leases.computeIfAbsent(ids[s], k -> new HashMap<>());
        ls.values().removeIf(exp -> exp <= now);
        if (ls.size() >= l.getMaxConcurrency()) {
          return Mono.just(
              new Admission(
                  Denials.of("concurrency", s, 1000), headers(l, reqLeft[s], tokLeft[s], 0)));
        }
      }
    }
    Headers h = null;
    for (int s = 0; s < 2; s++) {
      Limits l = limits[s];
      if (l.getRequestsPerMinute() > 0) {
        reqLeft[s] = take(ids[s] + ":rpm", 1);
      }
      if (l.getTokensPerMinute() > 0) {
        tokLeft[s] = take(ids[s] + ":tpm", Math.min(r.tokens(), l.getTokensPerMinute()));
      }
      if (l.getMaxConcurrency() > 0) {
        leases.get(ids[s]).put(r.leaseId(), now + r.leaseTtl().toMillis());
      }
      if (h == null && (l.getRequestsPerMinute() > 0 || l.getTokensPerMinute() > 0)) {
        h = headers(l, reqLeft[s], tokLeft[s], 0);
      }
    }
    return Mono.just(new Admission(null, h));
  }

  private double tokLeftOrFull(String id, Limits l, long now) {
    return l.getTokensPerMinute() > 0 ? level(id + ":tpm", l.getTokensPerMinute(), now) : 0;
  }

  private static Headers headers(Limits l, double reqLeft, double tokLeft, long ignored) {
    long rpm = l.getRequestsPerMinute();
    long tpm = l.getTokensPerMinute();
    return new Headers(
        rpm,
        (long) Math.floor(Math.max(0, reqLeft)),
        Duration.ofMillis(rpm == 0 ? 0 : (long) Math.ceil((rpm - reqLeft) * 60000.0 / rpm)),
        tpm,
        (long) Math.floor(Math.max(0, tokLeft)),
        Duration.ofMillis(tpm == 0 ? 0 : (long) Math.ceil((tpm - tokLeft) * 60000.0 / tpm)));
  }

  /** Refills the bucket to now and returns its level. */
  private double level(String id, long capacity, long now) {
    double[] b = buckets.computeIfAbsent(id, k -> new double[] {capacity, now});
    double t = Math.min(capacity, b[0] + (now - b[1]) * capacity / 60000.0);
    b[0] = t;
    b[1] = now;
    return t;
  }

  private double take(String id, double n) {
    double[] b = buckets.get(id);
    b[0] -= n;
    return b[0];
  }

  @Override
  public synchronized Mono<Void> release(Request r, long actualTokens) {
    String[] ids = {"k:" + r.keyId(), "t:" + r.tenantId()};
    Limits[] limits = {r.keyLimits(), r.tenantLimits()};
    for (int s = 0; s < 2; s++) {
      Map<String, Long> ls = leases.get(ids[s]);
      if (ls != null) {
        ls.remove(r.leaseId());
      }
      long tpm = limits[s].getTokensPerMinute();
      double[] b = buckets.get(ids[s] + ":tpm");
      if (tpm > 0 && b != null && actualTokens >= 0) {
        double taken = Math.min(r.tokens(), tpm);
        b[0] = Math.max(-tpm, Math.min(tpm, b[0] + taken - actualTokens));
      }
    }
    return Mono.empty();
  }
}
