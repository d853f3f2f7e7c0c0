package org.glmmaas.auth.credential;

import static org.glmmaas.proto.auth.v1.AuthFailureReason.BAD_SIGNATURE;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.EXPIRED;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.REVOKED;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.TENANT_SUSPENDED;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.UNKNOWN_KEY;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import org.glmmaas.auth.AuthProperties;
import org.glmmaas.auth.crypto.SecretCodec;
import org.glmmaas.auth.tenant.Limits;
import org.glmmaas.auth.tenant.TenantStatus;
import org.glmmaas.proto.auth.v1.AuthFailure;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.glmmaas.proto.auth.v1.AuthenticateResponse;
import org.glmmaas.proto.auth.v1.Principal;
import org.springframework.stereotype.Service;

/**
 * Resolves a credential to a principal or a precise reason. The order is deliberate: the secret (or
 * JWT signature) is verified before the key's state is revealed, so only a holder of the secret
 * learns that a key is revoked, expired or its tenant suspended.
 */
@Service
public class Authenticator {

  private final KeyCache cache;
  private final SecretCodec codec;
  private final LastUsedRecorder lastUsed;
  private final Clock clock;
  private final long principalTtlMs;
  private final Counter granted;
  private final Map<AuthFailureReason, Counter> denied = new EnumMap<>(AuthFailureReason.class);

  public Authenticator(
      KeyCache cache,
      SecretCodec codec,
      LastUsedRecorder lastUsed,
      Clock clock,
      AuthProperties props,
      MeterRegistry meters) {
    this.cache = cache;
    this.codec = codec;
    this.lastUsed = lastUsed;
    this.clock = clock;
    this.principalTtlMs = props.principalCacheTtl().toMillis();
    this.granted =
        Counter.builder("glm.auth.authentications")
            .tag("result", "granted")
            .description("Authenticate answers by result")
            .register(meters);
    for (AuthFailureReason r : AuthFailureReason.values()) {
      if (r != AuthFailureReason.UNRECOGNIZED
          && r != AuthFailureReason.AUTH_FAILURE_REASON_UNSPECIFIED) {
        denied.put(
            r,
            Counter.builder("glm.auth.authentications")
                .tag("result", r.name().toLowerCase())
                .description("Authenticate answers by result")
                .register(meters));
      }
    }
  }

  public AuthenticateResponse authenticate(String header) {
    try {
      Principal p = resolve(header);
      granted.increment();
      return AuthenticateResponse.newBuilder().setPrincipal(p).build();
    } catch (CredentialException e) {
      denied.get(e.reason()).increment();
      return AuthenticateResponse.newBuilder()
          .setFailure(AuthFailure.newBuilder().setReason(e.reason()).setMessage(e.getMessage()))
          .build();
    }
  }

  private Principal resolve(String header) throws CredentialException {
    Credential credential = Credential.parse(header);
    CachedKey key =
        cache
            .get(credential.keyId())
            .orElseThrow(
                () ->
                    new CredentialException(
                        UNKNOWN_KEY, "unknown API key id " + credential.keyId()));
    Instant now = clock.instant();
    long validUntilMs = Long.MAX_VALUE;
    switch (credential) {
      case Credential.RawKey raw -> {
        if (!codec.matches(raw.secret(), key.secretHash(), key.masterKeyVersion())) {
          throw new CredentialException(
              BAD_SIGNATURE, "API key secret does not match key " + key.keyId());
        }
      }
      case Credential.Jwt jwt -> {
        jwt.token().verify(key.jwtMac(), now);
        validUntilMs = jwt.token().expiresAtMs();
      }
    }
    if (key.revokedAt() != null) {
      throw new CredentialException(
          REVOKED, "API key " + key.keyId() + " was revoked at " + key.revokedAt());
    }
    if (key.expiresAt() != null && !key.expiresAt().isAfter(now)) {
      throw new CredentialException(
          EXPIRED, "API key " + key.keyId() + " expired at " + key.expiresAt());
    }
    if (key.tenantStatus() != TenantStatus.ACTIVE) {
      throw new CredentialException(TENANT_SUSPENDED, "tenant " + key.tenantId() + " is suspended");
    }
    lastUsed.record(key.keyId());
    if (key.expiresAt() != null) {
      validUntilMs = Math.min(validUntilMs, key.expiresAt().toEpochMilli());
    }
    long ttl = Math.max(0, Math.min(principalTtlMs, validUntilMs - now.toEpochMilli()));
    return Principal.newBuilder()
        .setTenantId(key.tenantId())
        .setKeyId(key.keyId())
        .addAllAllowedModels(key.allowedModels())
        .setKeyLimits(proto(key.keyLimits()))
        .setTenantLimits(proto(key.tenantLimits()))
        .setTenantStatus(org.glmmaas.proto.auth.v1.TenantStatus.ACTIVE)
        .setKeyExpiresAtUnixMs(key.expiresAt() == null ? 0 : key.expiresAt().toEpochMilli())
        .setCacheTtlMs((int) ttl)
        .build();
  }

  private static org.glmmaas.proto.auth.v1.Limits proto(Limits l) {
    return org.glmmaas.proto.auth.v1.Limits.newBuilder()
        .setRequestsPerMinute(l.requestsPerMinute())
        .setTokensPerMinute(l.tokensPerMinute())
        .setMaxConcurrency(l.maxConcurrency())
        .build();
  }
}
