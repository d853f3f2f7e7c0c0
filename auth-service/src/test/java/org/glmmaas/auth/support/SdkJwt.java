package org.glmmaas.auth.support;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Builds BigModel JWTs byte for byte the way the official SDKs do.
 *
 * <ul>
 *   <li>zhipuai (Python): {@code jwt.encode({"api_key": id, "exp": now_ms + ttl*1000, "timestamp":
 *       now_ms}, secret, algorithm="HS256", headers={"alg": "HS256", "sign_type": "SIGN"})}; PyJWT
 *       adds {@code "typ":"JWT"}, sorts header keys and writes compact JSON.
 *   <li>zhipuai Node SDKs ({@code jsonwebtoken}): {@code jwt.sign({api_key, exp, timestamp},
 *       secret, {header: {alg: "HS256", sign_type: "SIGN"}})}; jsonwebtoken writes {@code
 *       {"alg","typ"}} then the extra header members and adds {@code iat} in seconds. One of them
 *       sends exp/timestamp in microseconds ({@code Date.now() * 1000}).
 * </ul>
 */
public final class SdkJwt {

  private SdkJwt() {}

  public static String python(String apiKey, long nowMs, long ttlSeconds) {
    String[] parts = apiKey.split("\\.");
    String header = "{\"alg\":\"HS256\",\"sign_type\":\"SIGN\",\"typ\":\"JWT\"}";
    String payload =
        "{\"api_key\":\""
            + parts[0]
            + "\",\"exp\":"
            + (nowMs + ttlSeconds * 1000)
            + ",\"timestamp\":"
            + nowMs
            + "}";
    return sign(header, payload, parts[1]);
  }

  public static String node(String apiKey, long nowMs, long ttlSeconds) {
    String[] parts = apiKey.split("\\.");
    String header = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"sign_type\":\"SIGN\"}";
    String payload =
        "{\"api_key\":\""
            + parts[0]
            + "\",\"exp\":"
            + (nowMs + ttlSeconds * 1000)
            + ",\"timestamp\":"
            + nowMs
            + ",\"iat\":"
            + nowMs / 1000
            + "}";
    return sign(header, payload, parts[1]);
  }

  /** The Node variant that sends exp and timestamp in microseconds. */
  public static String nodeMicros(String apiKey, long nowMs, long ttlSeconds) {
    String[] parts = apiKey.split("\\.");
    String header = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"sign_type\":\"SIGN\"}";
    String payload =
        "{\"api_key\":\""
            + parts[0]
            + "\",\"exp\":"
            + (nowMs + ttlSeconds * 1000) * 1000
            + ",\"timestamp\":"
            + nowMs * 1000
            + ",\"iat\":"
            + nowMs / 1000
            + "}";
    return sign(header, payload, parts[1]);
  }

  public static String sign(String headerJson, String payloadJson, String secret) {
    return sign(headerJson, payloadJson, secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
  }

  public static String sign(String headerJson, String payloadJson, byte[] key, String hmac) {
    String input =
        b64(headerJson.getBytes(StandardCharsets.UTF_8))
            + "."
            + b64(payloadJson.getBytes(StandardCharsets.UTF_8));
    try {
      Mac mac = Mac.getInstance(hmac);
      mac.init(new SecretKeySpec(key, hmac));
      return input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An unsigned {@code alg: none} token. */
  public static String unsigned(String headerJson, String payloadJson) {
    return b64(headerJson.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64(payloadJson.getBytes(StandardCharsets.UTF_8))
        + ".";
  }

  public static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
