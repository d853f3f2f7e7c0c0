package org.glmmaas.platform.identity;

import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.glmmaas.platform.config.PlaceholderSecrets;

/**
 * The identity one service proves to another on every internal gRPC call: a short-lived token
 * signed with HMAC-SHA256 under the deployment's shared secret ({@code
 * glm.service-identity.secret}, at least 32 characters), in the {@code glm-service-identity}
 * header:
 *
 * <pre>
 * v1.&lt;caller&gt;.&lt;unix seconds&gt;.&lt;base64url HMAC("v1|caller|seconds|full method")&gt;
 * </pre>
 *
 * <p>The server accepts it for {@link #MAX_AGE} either side of its own clock and only for the
 * method it was made for. Every process of one deployment holds the secret; a process without it
 * cannot make a token (docs/architecture.md explains the choice over mutual TLS).
 */
public final class ServiceIdentity {

  public static final String PROPERTY = "glm.service-identity.secret";

  /** The environment variable Spring binds to {@link #PROPERTY}. */
  public static final String ENV = "GLM_SERVICEIDENTITY_SECRET";

  public static final Metadata.Key<String> HEADER =
      Metadata.Key.of("glm-service-identity", Metadata.ASCII_STRING_MARSHALLER);

  /** How far a token's time may be from the server's clock. */
  public static final Duration MAX_AGE = Duration.ofSeconds(60);

  static final int MIN_SECRET_LENGTH = 32;
  private static final Pattern CALLER = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final String VERSION = "v1";

  private static volatile ServiceIdentity processWide;

  private final byte[] key;
  private final String caller;
  private final Clock clock;

  /**
   * A token is a function of (caller, second, method): within one second every call of a method
   * gets the same one, so it is signed once per method and second, not once per call (an HMAC with
   * a fresh {@code Mac} per call cost microseconds on every internal hop). Keyed by method: as many
   * entries as the process has gRPC methods.
   */
  private final java.util.concurrent.ConcurrentHashMap<String, Signed> made =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The last token accepted per method: the same token again (the caller's next call within its
   * second) is checked by comparison and its age, not by a new HMAC. Only genuine tokens get here.
   */
  private final java.util.concurrent.ConcurrentHashMap<String, Signed> accepted =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** One Mac per thread, initialised once with the key (doFinal resets it for the next use). */
  private final ThreadLocal<Mac> macs;

  private record Signed(long second, String caller, String token) {}

  /**
   * @param secret the deployment's shared secret (32+ characters, no placeholder)
   * @param caller this process's name in the tokens it makes ("gateway")
   */
  public ServiceIdentity(String secret, String caller, Clock clock) {
    Objects.requireNonNull(secret, PROPERTY);
    String s = secret.strip();
    PlaceholderSecrets.check(PROPERTY, s);
    if (s.length() < MIN_SECRET_LENGTH) {
      throw new IllegalArgumentException(
          PROPERTY
              + " must be at least "
              + MIN_SECRET_LENGTH
              + " characters (e.g. openssl rand -base64 32)");
    }
    String c = caller == null || caller.isBlank() ? "service" : caller.strip();
    if (!CALLER.matcher(c).matches()) {
      throw new IllegalArgumentException("service identity caller '" + c + "' is not [a-z0-9-]");
    }
    this.key = s.getBytes(StandardCharsets.UTF_8);
    this.caller = c;
    this.clock = clock;
    this.macs =
        ThreadLocal.withInitial(
            () -> {
              try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
                return mac;
              } catch (NoSuchAlgorithmException | InvalidKeyException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
              }
            });
  }

  /** The identity of this process, or null (no secret configured). */
  public static ServiceIdentity processWide() {
    return processWide;
  }

  /** Set by {@link ServiceIdentityEnvironment} as a service starts (null: none configured). */
  static void installProcessWide(ServiceIdentity identity) {
    processWide = identity;
  }

  /**
   * The identity configured by {@link #ENV} in {@code env} (command-line tools), or null when it is
   * unset.
   */
  public static ServiceIdentity fromEnvironment(Map<String, String> env, String caller) {
    String secret = env.get(ENV);
    return secret == null || secret.isBlank()
        ? null
        : new ServiceIdentity(secret, caller, Clock.systemUTC());
  }

  public String caller() {
    return caller;
  }

  /** A token for one call of {@code fullMethodName}, valid for {@link #MAX_AGE}. */
  public String token(String fullMethodName) {
    long now = clock.instant().getEpochSecond();
    Signed last = made.get(fullMethodName);
    if (last != null && last.second == now) {
      return last.token;
    }
    String t = VERSION + "." + caller + "." + now + "." + sign(caller, now, fullMethodName);
    made.put(fullMethodName, new Signed(now, caller, t));
    return t;
  }

  /**
   * The caller a token names, when it is genuine, fresh and made for {@code fullMethodName}.
   *
   * @throws InvalidTokenException saying what is wrong (never echoing the token)
   */
  public String verify(String token, String fullMethodName) {
    if (token == null || token.isEmpty()) {
      throw new InvalidTokenException("no service identity");
    }
    Signed known = accepted.get(fullMethodName);
    if (known != null && known.token.equals(token)) {
      long skew = Math.abs(clock.instant().getEpochSecond() - known.second);
      if (skew > MAX_AGE.toSeconds()) {
        throw new InvalidTokenException("service identity expired (" + skew + " s old)");
      }
      return known.caller;
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 4 || !parts[0].equals(VERSION) || !CALLER.matcher(parts[1]).matches()) {
      throw new InvalidTokenException("malformed service identity");
    }
    long at;
    try {
      at = Long.parseLong(parts[2]);
    } catch (NumberFormatException e) {
      throw new InvalidTokenException("malformed service identity");
    }
    byte[] expected = sign(parts[1], at, fullMethodName).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, parts[3].getBytes(StandardCharsets.US_ASCII))) {
      throw new InvalidTokenException("service identity not signed with this deployment's secret");
    }
    long skew = Math.abs(clock.instant().getEpochSecond() - at);
    if (skew > MAX_AGE.toSeconds()) {
      throw new InvalidTokenException("service identity expired (" + skew + " s old)");
    }
    accepted.put(fullMethodName, new Signed(at, parts[1], token));
    return parts[1];
  }

  private String sign(String who, long at, String method) {
    byte[] sig =
        macs.get()
            .doFinal(
                (VERSION + "|" + who + "|" + at + "|" + method).getBytes(StandardCharsets.UTF_8));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
  }

  /** A token that does not prove the caller's identity. */
  public static final class InvalidTokenException extends RuntimeException {
    InvalidTokenException(String message) {
      super(message, null, false, false);
    }
  }
}
