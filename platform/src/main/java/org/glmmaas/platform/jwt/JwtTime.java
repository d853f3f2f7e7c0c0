package org.glmmaas.platform.jwt;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.OptionalLong;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one rule for the time claims ({@code exp}, {@code timestamp}) of BigModel JWTs, used by
 * auth-service when it verifies a token and by the gateway when it bounds how long it caches one.
 *
 * <p>The official zhipuai SDKs send milliseconds (Python, and Node via jsonwebtoken), and one Node
 * SDK microseconds ({@code Date.now() * 1000}); RFC 7519 clients send seconds. The three ranges do
 * not overlap for any date between 1973 and 5138, so the unit is read from the magnitude: below
 * 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds. Anything else, zero, negative or
 * non-finite is refused, never read as "never expires".
 */
public final class JwtTime {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private JwtTime() {}

  /**
   * A claim's unix time in milliseconds by the rule above.
   *
   * @throws IllegalArgumentException "must be a positive unix time" or "is not a unix time in s, ms
   *     or µs" (callers prefix the claim's name)
   */
  public static long toEpochMillis(double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("must be a positive unix time");
    }
    if (value < 1e11) {
      return (long) (value * 1000);
    }
    if (value < 1e14) {
      return (long) value;
    }
    if (value < 1e17) {
      return (long) (value / 1000);
    }
    throw new IllegalArgumentException("is not a unix time in s, ms or µs");
  }

  /**
   * The {@code exp} of a compact JWT ({@code header.payload.signature}) in unix milliseconds, read
   * WITHOUT checking the signature (only for bounding a cache entry of a token auth-service has
   * verified); empty when the credential is not a JWT or has no valid {@code exp}.
   */
  public static OptionalLong expiresAtMillis(String token) {
    int d1 = token.indexOf('.');
    int d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
    if (d2 < 0) {
      return OptionalLong.empty();
    }
    try {
      byte[] payload = Base64.getUrlDecoder().decode(token.substring(d1 + 1, d2));
      JsonNode claims = JSON.readTree(new String(payload, StandardCharsets.UTF_8));
      JsonNode exp = claims == null ? null : claims.get("exp");
      if (exp == null || !exp.isNumber()) {
        return OptionalLong.empty();
      }
      return OptionalLong.of(toEpochMillis(exp.doubleValue()));
    } catch (IllegalArgumentException | JacksonException e) {
      return OptionalLong.empty();
    }
  }
}
