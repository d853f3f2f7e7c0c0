package org.glmmaas.gateway.auth;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.platform.jwt.JwtTime;
import org.glmmaas.proto.auth.v1.AuthFailure;
import org.glmmaas.proto.auth.v1.AuthServiceGrpc;
import org.glmmaas.proto.auth.v1.AuthenticateRequest;
import org.glmmaas.proto.auth.v1.AuthenticateResponse;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.auth.v1.TenantStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Resolves the Authorization header to a {@link Principal}: from a local cache first (honouring the
 * principal's cache_ttl_ms, a JWT's own expiry and key events), else through auth-service's gRPC
 * Authenticate. Credentials never reach a log or an error body, and are not kept in memory either:
 * both caches are keyed by the credential's SHA-256. Failures live in their own small cache ({@code
 * maxNegativeEntries}, 2 s each), so a flood of bad keys costs at most one remote call per distinct
 * key every 2 s, a few dozen bytes each, and never evicts the principals of good keys.
 */
public final class CachingAuthClient {

  private static final Logger log = LoggerFactory.getLogger(CachingAuthClient.class);
  private static final int MAX_CREDENTIAL_LENGTH = 4096;
  private static final long NEGATIVE_TTL_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final AuthServiceGrpc.AuthServiceFutureStub stub;
  private final Duration timeout;
  private final long maxTtlNanos;
  private final int maxEntries;
  private final LongSupplier nanoClock;
  private final int maxNegativeEntries;
  private final ConcurrentHashMap<Digest, Entry> cache = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Digest, Entry> failures = new ConcurrentHashMap<>();

  /** A credential's SHA-256, as a map key (the credential itself is never stored). */
  record Digest(long a, long b, long c, long d) {
    static Digest of(String credential) {
      byte[] h;
      try {
        h =
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(credential.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(h);
      return new Digest(b.getLong(), b.getLong(), b.getLong(), b.getLong());
    }
  }

  /** A cached answer: a principal or a failure, valid until {@code expiresAtNanos}. */
  private record Entry(Principal principal, GlmError failure, long expiresAtNanos) {}

  public CachingAuthClient(
      ManagedChannel channel,
      Duration timeout,
      Duration maxTtl,
      int maxEntries,
      LongSupplier nanoClock) {
    this(
        channel, timeout, maxTtl, maxEntries, Math.max(1, Math.min(maxEntries, 10_000)), nanoClock);
  }

  /**
   * @param maxEntries principals kept at most
   * @param maxNegativeEntries failed credentials (their hashes) kept at most, each for 2 s
   */
  public CachingAuthClient(
      ManagedChannel channel,
      Duration timeout,
      Duration maxTtl,
      int maxEntries,
      int maxNegativeEntries,
      LongSupplier nanoClock) {
    this.maxNegativeEntries = maxNegativeEntries;
    this.stub = channel == null ? null : AuthServiceGrpc.newFutureStub(channel);
    this.timeout = timeout;
    this.maxTtlNanos = maxTtl.toNanos();
    this.maxEntries = maxEntries;
    this.nanoClock = nanoClock;
  }

  /** Authenticates the raw Authorization header value (may be null). */
  public Mono<Principal> authenticate(String header) {
    String credential;
    try {
      credential = normalize(header);
    } catch (GlmException e) {
      return Mono.error(e);
    }
    Digest key = Digest.of(credential);
    long now = nanoClock.getAsLong();
    Entry e = cache.get(key);
    if (e != null && e.expiresAtNanos - now > 0) {
      return check(e.principal);
    }
    Entry f = failures.get(key);
    if (f != null && f.expiresAtNanos - now > 0) {
      return Mono.error(new GlmException(f.failure));
    }
    return remote(credential, key);
  }

  /** Cached lookup only, for the benchmark: the principal or null. */
  public Principal cached(String header) {
    Entry e = cache.get(Digest.of(normalize(header)));
    return e != null && e.expiresAtNanos - nanoClock.getAsLong() > 0 ? e.principal : null;
  }

  private Mono<Principal> remote(String credential, Digest key) {
    if (stub == null) {
      return Mono.error(
          new GlmException(
              new GlmError.Unavailable(
                  "authentication is not configured on this gateway (glm.gateway.auth.address)",
                  Duration.ofSeconds(5))));
    }
    return Mono.fromFuture(
            () ->
                toCompletable(
                    stub.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .authenticate(
                            AuthenticateRequest.newBuilder().setCredential(credential).build())))
        .onErrorMap(
            t -> !(t instanceof GlmException),
            t -> {
              log.warn("auth-service call failed: {}", t.toString());
              return new GlmException(
                  new GlmError.Unavailable(
                      "the authentication service is unavailable, retry shortly",
                      Duration.ofSeconds(1)));
            })
        .flatMap(
            resp -> {
              long now = nanoClock.getAsLong();
              if (resp.getResultCase() == AuthenticateResponse.ResultCase.PRINCIPAL) {
                Principal p = resp.getPrincipal();
                long ttl =
                    Math.min(
                        maxTtlNanos, TimeUnit.MILLISECONDS.toNanos(Math.max(0, p.getCacheTtlMs())));
                ttl = Math.min(ttl, jwtRemainingNanos(credential));
                if (ttl > 0) {
                  put(cache, maxEntries, key, new Entry(p, null, now + ttl));
                }
                return check(p);
              }
              GlmError err = failure(resp.getFailure());
              put(
                  failures,
                  maxNegativeEntries,
                  key,
                  new Entry(null, err, now + NEGATIVE_TTL_NANOS));
              return Mono.error(new GlmException(err));
            });
  }

  private static java.util.concurrent.CompletableFuture<AuthenticateResponse> toCompletable(
      com.google.common.util.concurrent.ListenableFuture<AuthenticateResponse> f) {
    var cf =
        new java.util.concurrent.CompletableFuture<AuthenticateResponse>() {
          @Override
          public boolean cancel(boolean mayInterrupt) {
            f.cancel(mayInterrupt);
            return super.cancel(mayInterrupt);
          }
        };
    f.addListener(
        () -> {
          try {
            cf.complete(f.get());
          } catch (java.util.concurrent.ExecutionException ex) {
            cf.completeExceptionally(ex.getCause());
          } catch (Exception ex) {
            cf.completeExceptionally(ex);
          }
        },
        Runnable::run);
    return cf;
  }

  private void put(ConcurrentHashMap<Digest, Entry> map, int max, Digest key, Entry e) {
    if (map.size() >= max) {
      long now = nanoClock.getAsLong();
      map.values().removeIf(x -> x.expiresAtNanos - now <= 0);
      if (map.size() >= max) {
        map.clear();
      }
    }
    map.put(key, e);
  }

  private Mono<Principal> check(Principal p) {
    if (p.getTenantStatus() == TenantStatus.SUSPENDED) {
      return Mono.error(
          new GlmException(
              new GlmError.PermissionDenied("the account is locked; contact support", "1112")));
    }
    if (p.getKeyExpiresAtUnixMs() != 0 && p.getKeyExpiresAtUnixMs() < System.currentTimeMillis()) {
      return Mono.error(
          new GlmException(new GlmError.Unauthenticated("the API key has expired", "1003")));
    }
    return Mono.just(p);
  }

  static GlmError failure(AuthFailure f) {
    String msg = f.getMessage().isBlank() ? null : f.getMessage();
    return switch (f.getReason()) {
      case MISSING ->
          new GlmError.Unauthenticated(msg != null ? msg : "no credential was sent", "1001");
      case EXPIRED ->
          new GlmError.Unauthenticated(msg != null ? msg : "the credential has expired", "1003");
      case TENANT_SUSPENDED ->
          new GlmError.PermissionDenied(
              msg != null ? msg : "the account is locked; contact support", "1112");
      case MALFORMED ->
          new GlmError.Unauthenticated(msg != null ? msg : "the credential is malformed", "1002");
      default -> new GlmError.Unauthenticated(msg != null ? msg : "the API key is invalid", "1002");
    };
  }

  /** Strips "Bearer " and rejects shapes no key or JWT can have, without a remote call. */
  static String normalize(String header) {
    if (header == null || header.isBlank()) {
      throw new GlmException(
          new GlmError.Unauthenticated(
              "no Authorization header; send 'Authorization: Bearer <API key>'", "1001"));
    }
    String h = header.strip();
    if (h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      h = h.substring(7).strip();
    } else if (h.regionMatches(true, 0, "Bearer", 0, 6) && h.length() == 6) {
      h = "";
    }
    if (h.isEmpty()) {
      throw new GlmException(
          new GlmError.Unauthenticated(
              "the Authorization header holds no credential after 'Bearer'", "1001"));
    }
    if (h.length() > MAX_CREDENTIAL_LENGTH) {
      throw new GlmException(
          new GlmError.Unauthenticated(
              "the credential is longer than " + MAX_CREDENTIAL_LENGTH + " characters", "1002"));
    }
    for (int i = 0; i < h.length(); i++) {
      char c = h.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        throw new GlmException(
            new GlmError.Unauthenticated(
                "the credential contains characters no API key or token has", "1002"));
      }
    }
    return h;
  }

  /**
   * For a JWT with an "exp" claim: time left, by the rule auth-service verifies with ({@link
   * JwtTime}: s, ms or µs by magnitude); else unbounded.
   */
  static long jwtRemainingNanos(String credential) {
    OptionalLong exp = JwtTime.expiresAtMillis(credential);
    return exp.isEmpty()
        ? Long.MAX_VALUE
        : TimeUnit.MILLISECONDS.toNanos(exp.getAsLong() - System.currentTimeMillis());
  }

  /** Drops cached principals of a key (or of a whole tenant when keyId is null). */
  public int invalidate(String keyId, String tenantId) {
    int before = cache.size();
    cache
        .values()
        .removeIf(
            e ->
                e.principal != null
                    && ((keyId != null && !keyId.isEmpty() && keyId.equals(e.principal.getKeyId()))
                        || (tenantId != null
                            && !tenantId.isEmpty()
                            && keyId == null
                            && tenantId.equals(e.principal.getTenantId()))));
    failures.clear();
    return before - cache.size();
  }

  /** Cached principals. */
  public int size() {
    return cache.size();
  }

  /** Cached failures. */
  public int failureCount() {
    return failures.size();
  }
}
