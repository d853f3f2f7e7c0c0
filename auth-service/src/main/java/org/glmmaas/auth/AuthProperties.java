package org.glmmaas.auth;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of auth-service, keys under {@code glm.auth.*}.
 *
 * @param adminToken bearer token guarding {@code /admin/v1/**}; absent: generated once into {@code
 *     data-dir/admin.token} (0600)
 * @param masterKey base64 of 32 random bytes, master key version 1 (a Kubernetes Secret in
 *     production)
 * @param masterKeys versioned master keys for rotation; the highest version encrypts new secrets
 * @param dataDir where generated defaults (master key, admin token) are kept
 * @param grpc the gRPC server, {@code glm.auth.grpc.*} ({@link GrpcServerProperties}; port 9081)
 * @param principalCacheTtl how long a gateway may cache a principal (sent as {@code cache_ttl_ms})
 * @param keyCacheTtl how long this service keeps a key in memory before re-reading it
 * @param keyCacheMaxEntries bound of the in-memory key cache
 * @param lastUsedFlushInterval {@code last_used_at} is written at most once per key per interval
 * @param keyEvents publication of {@code KeyEvent}s to Kafka
 */
@ConfigurationProperties("glm.auth")
public record AuthProperties(
    String adminToken,
    String masterKey,
    List<MasterKeyVersion> masterKeys,
    Path dataDir,
    GrpcServerProperties grpc,
    Duration principalCacheTtl,
    Duration keyCacheTtl,
    Integer keyCacheMaxEntries,
    Duration lastUsedFlushInterval,
    KeyEvents keyEvents) {

  public static final int DEFAULT_GRPC_PORT = 9081;
  public static final Path DEFAULT_DATA_DIR = Path.of("data", "auth-service");

  public AuthProperties {
    masterKeys = masterKeys == null ? List.of() : List.copyOf(masterKeys);
    // the service's own folder (relative to its working directory, as the gateway's
    // data/gateway), never the shared temp folder where another user could plant a key
    dataDir = dataDir != null ? dataDir : DEFAULT_DATA_DIR;
    grpc =
        (grpc != null ? grpc : GrpcServerProperties.onPort(DEFAULT_GRPC_PORT))
            .withDefaultPort(DEFAULT_GRPC_PORT);
    principalCacheTtl = positive(principalCacheTtl, Duration.ofSeconds(5), "principal-cache-ttl");
    keyCacheTtl = positive(keyCacheTtl, Duration.ofSeconds(5), "key-cache-ttl");
    keyCacheMaxEntries = keyCacheMaxEntries != null ? keyCacheMaxEntries : 100_000;
    if (keyCacheMaxEntries < 1) {
      throw new IllegalArgumentException("glm.auth.key-cache-max-entries must be >= 1");
    }
    lastUsedFlushInterval =
        positive(lastUsedFlushInterval, Duration.ofSeconds(10), "last-used-flush-interval");
    keyEvents = keyEvents != null ? keyEvents : new KeyEvents(null, null);
  }

  private static Duration positive(Duration value, Duration dflt, String name) {
    if (value == null) {
      return dflt;
    }
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("glm.auth." + name + " must be positive, was " + value);
    }
    return value;
  }

  /**
   * One entry of {@code glm.auth.master-keys}: {@code version} (>= 1) and {@code key} (base64, 32
   * bytes).
   */
  public record MasterKeyVersion(int version, String key) {}

  /** {@code glm.auth.key-events.*}: {@code enabled} (default true, needs Kafka), {@code topic}. */
  public record KeyEvents(Boolean enabled, String topic) {
    public KeyEvents {
      enabled = enabled == null || enabled;
      topic = topic != null && !topic.isBlank() ? topic : "glm.key-events.v1";
    }
  }
}
