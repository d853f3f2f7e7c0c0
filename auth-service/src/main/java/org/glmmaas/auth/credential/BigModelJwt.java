package org.glmmaas.auth.credential;

import static org.glmmaas.proto.auth.v1.AuthFailureReason.BAD_SIGNATURE;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.EXPIRED;
import static org.glmmaas.proto.auth.v1.AuthFailureReason.MALFORMED;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.Set;
import javax.crypto.Mac;
import org.glmmaas.auth.crypto.SecretCodec;
import org.glmmaas.platform.jwt.JwtTime;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JWT the official zhipuai SDKs build from {@code <id>.<secret>}: header {@code
 * {"alg":"HS256","sign_type":"SIGN"}} (plus {@code "typ":"JWT"} from PyJWT/jsonwebtoken), claims
 * {@code api_key}, {@code exp} and {@code timestamp} in milliseconds, HS256 with the secret's UTF-8
 * bytes as the key.
 *
 * <p>Deliberately strict and small: only {@code alg} "HS256" is accepted (so {@code none}, other
 * HMACs and public-key algorithms — the algorithm-confusion family — are refused before any key is
 * touched); duplicate JSON members and {@code crit} headers are refused; the signature must be
 * exactly 32 bytes and is compared in constant time. {@code exp}/{@code timestamp} are read by the
 * one rule the gateway shares ({@link JwtTime}: seconds, milliseconds or microseconds by magnitude
 * — one official Node SDK sends microseconds); a missing or non-positive {@code exp} is refused,
 * never read as "never expires".
 */
public final class BigModelJwt {

  private static final JsonMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();
  private static final Set<String> ALLOWED_HEADER = Set.of("alg", "typ", "sign_type", "kid");

  /** Tolerated clock difference between client and server. */
  static final long LEEWAY_MS = 30_000;

  /** A {@code timestamp} further in the future than this is refused. */
  static final long MAX_FUTURE_TIMESTAMP_MS = 5 * 60_000;

  private final String apiKey;
  private final long expiresAtMs;
  private final long timestampMs;
  private final byte[] signingInput;
  private final byte[] signature;

  private BigModelJwt(
      String apiKey, long expiresAtMs, long timestampMs, byte[] signingInput, byte[] signature) {
    this.apiKey = apiKey;
    this.expiresAtMs = expiresAtMs;
    this.timestampMs = timestampMs;
    this.signingInput = signingInput;
    this.signature = signature;
  }

  public String apiKey() {
    return apiKey;
  }

  /** {@code exp}, normalised to unix milliseconds. */
  public long expiresAtMs() {
    return expiresAtMs;
  }

  /** {@code timestamp}, normalised to unix milliseconds; 0 when absent. */
  public long timestampMs() {
    return timestampMs;
  }

  /** Parses and checks the structure and header; the signature is checked by {@link #verify}. */
  public static BigModelJwt parse(String token) throws CredentialException {
    int d1 = token.indexOf('.');
    int d2 = token.indexOf('.', d1 + 1);
    if (d1 <= 0 || d2 <= d1 + 1 || d2 == token.length() - 1 || token.indexOf('.', d2 + 1) >= 0) {
      throw new CredentialException(
          MALFORMED, "JWT must have three non-empty parts header.payload.signature");
    }
    JsonNode header = json(token.substring(0, d1), "header");
    checkHeader(header);
    JsonNode claims = json(token.substring(d1 + 1, d2), "payload");
    byte[] signature = b64(token.substring(d2 + 1), "signature");
    if (signature.length != 32) {
      throw new CredentialException(
          BAD_SIGNATURE, "JWT signature is not an HS256 signature (32 bytes)");
    }
    JsonNode apiKey = claims.get("api_key");
    if (apiKey == null
        || !apiKey.isString()
        || !Credential.KEY_ID.matcher(apiKey.stringValue()).matches()) {
      throw new CredentialException(MALFORMED, "JWT claim api_key is missing or not a key id");
    }
    JsonNode exp = claims.get("exp");
    if (exp == null) {
      throw new CredentialException(MALFORMED, "JWT has no exp claim");
    }
    long expMs = epochMillis(exp, "exp");
    JsonNode ts = claims.get("timestamp");
    long tsMs = ts == null ? 0 : epochMillis(ts, "timestamp");
    byte[] signingInput = token.substring(0, d2).getBytes(StandardCharsets.US_ASCII);
    return new BigModelJwt(apiKey.stringValue(), expMs, tsMs, signingInput, signature);
  }

  /**
   * Checks the signature (constant time) with the key's HMAC, then the times against {@code now}.
   */
  public void verify(Mac secretMacPrototype, Instant now) throws CredentialException {
    byte[] expected = SecretCodec.cloneMac(secretMacPrototype).doFinal(signingInput);
    if (!MessageDigest.isEqual(expected, signature)) {
      throw new CredentialException(BAD_SIGNATURE, "JWT signature does not match the key's secret");
    }
    long nowMs = now.toEpochMilli();
    if (expiresAtMs + LEEWAY_MS <= nowMs) {
      throw new CredentialException(EXPIRED, "JWT expired at " + Instant.ofEpochMilli(expiresAtMs));
    }
    if (timestampMs > nowMs + MAX_FUTURE_TIMESTAMP_MS) {
      throw new CredentialException(
          MALFORMED,
          "JWT timestamp "
              + Instant.ofEpochMilli(timestampMs)
              + " is in the future; check the client clock");
    }
  }

  private static void checkHeader(JsonNode header) throws CredentialException {
    JsonNode alg = header.get("alg");
    if (alg == null || !alg.isString()) {
      throw new CredentialException(MALFORMED, "JWT header has no alg");
    }
    if (!"HS256".equals(alg.stringValue())) {
      throw new CredentialException(
          BAD_SIGNATURE,
          "JWT alg '" + printable(alg.stringValue()) + "' is not accepted: only HS256");
    }
    for (String name : header.propertyNames()) {
      if (!ALLOWED_HEADER.contains(name)) {
        throw new CredentialException(
            MALFORMED, "JWT header member '" + printable(name) + "' is not supported");
      }
    }
    JsonNode typ = header.get("typ");
    if (typ != null && !(typ.isString() && "JWT".equalsIgnoreCase(typ.stringValue()))) {
      throw new CredentialException(MALFORMED, "JWT header typ must be JWT");
    }
    JsonNode signType = header.get("sign_type");
    if (signType != null && !(signType.isString() && "SIGN".equals(signType.stringValue()))) {
      throw new CredentialException(MALFORMED, "JWT header sign_type must be SIGN");
    }
  }

  /** Unix time of a claim in milliseconds, by the platform's one rule ({@link JwtTime}). */
  static long epochMillis(JsonNode node, String claim) throws CredentialException {
    if (!node.isNumber()) {
      throw new CredentialException(MALFORMED, "JWT claim " + claim + " is not a number");
    }
    try {
      return JwtTime.toEpochMillis(node.doubleValue());
    } catch (IllegalArgumentException e) {
      throw new CredentialException(MALFORMED, "JWT claim " + claim + " " + e.getMessage());
    }
  }

  private static JsonNode json(String part, String what) throws CredentialException {
    byte[] bytes = b64(part, what);
    try {
      JsonNode node = JSON.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw new CredentialException(MALFORMED, "JWT " + what + " is not a JSON object");
      }
      return node;
    } catch (JacksonException e) {
      throw new CredentialException(
          MALFORMED,
          "JWT "
              + what
              + " is not valid JSON"
              + (e.getMessage() != null && e.getMessage().contains("Duplicate")
                  ? " (duplicate member)"
                  : ""));
    }
  }

  private static byte[] b64(String part, String what) throws CredentialException {
    if (part.indexOf('=') >= 0 || part.indexOf('+') >= 0 || part.indexOf('/') >= 0) {
      throw new CredentialException(MALFORMED, "JWT " + what + " is not unpadded base64url");
    }
    try {
      return B64URL.decode(part);
    } catch (IllegalArgumentException e) {
      throw new CredentialException(MALFORMED, "JWT " + what + " is not base64url");
    }
  }

  private static String printable(String s) {
    String cut = s.length() > 32 ? s.substring(0, 32) + "…" : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
