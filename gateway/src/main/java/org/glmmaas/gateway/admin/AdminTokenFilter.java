package org.glmmaas.gateway.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The admin entry's one check: {@code Authorization: Bearer <glm.gateway.admin.token>}, compared in
 * constant time. A caller that passes is sent on with the upstream service's own admin token in
 * place of its own (the caller never learns it; the service still checks it), or, for the gateway's
 * own admin endpoints, with the exchange marked {@link #VERIFIED}. An unreachable upstream is a 503
 * in the same error shape.
 */
public final class AdminTokenFilter implements GatewayFilter {

  /** Exchange attribute set once the admin token was checked (read by the local admin handlers). */
  public static final String VERIFIED = AdminTokenFilter.class.getName() + ".verified";

  /** "/../", "/./", a trailing "/..", a backslash, or an encoded dot, slash or backslash. */
  private static final java.util.regex.Pattern DOT_SEGMENT =
      java.util.regex.Pattern.compile("(^|/)\\.{1,2}(/|$)|\\\\|%2[eEfF]|%5[cC]");

  private final byte[] tokenDigest;
  private final String upstreamName;
  private final String upstreamToken;

  /**
   * @param token the gateway's admin token (empty: every call is refused)
   * @param upstreamName the service's name in error messages
   * @param upstreamToken the token to send upstream, or null for the gateway's own endpoints
   */
  AdminTokenFilter(String token, String upstreamName, String upstreamToken) {
    this.tokenDigest = token.isEmpty() ? null : sha256(token);
    this.upstreamName = upstreamName;
    this.upstreamToken = upstreamToken;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange ex, GatewayFilterChain chain) {
    if (tokenDigest == null) {
      return AdminErrors.write(
          ex,
          HttpStatus.UNAUTHORIZED,
          "unauthorized",
          "the admin entry is off: glm.gateway.admin.token is not set on this gateway");
    }
    String header = ex.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return AdminErrors.write(
          ex,
          HttpStatus.UNAUTHORIZED,
          "unauthorized",
          "missing admin token: send Authorization: Bearer <glm.gateway.admin.token>");
    }
    if (!MessageDigest.isEqual(tokenDigest, sha256(header.substring(7).trim()))) {
      return AdminErrors.write(ex, HttpStatus.UNAUTHORIZED, "unauthorized", "invalid admin token");
    }
    String raw = ex.getRequest().getURI().getRawPath();
    if (raw == null || DOT_SEGMENT.matcher(raw).find()) {
      return AdminErrors.write(
          ex,
          HttpStatus.BAD_REQUEST,
          "invalid_request",
          "admin paths must not contain dot segments, backslashes or encoded separators");
    }
    ex.getAttributes().put(VERIFIED, Boolean.TRUE);
    ServerWebExchange next =
        ex.mutate()
            .request(
                r ->
                    r.headers(
                        h -> {
                          h.remove(HttpHeaders.AUTHORIZATION);
                          h.remove(HttpHeaders.COOKIE);
                          if (upstreamToken != null) {
                            h.setBearerAuth(upstreamToken);
                          }
                        }))
            .build();
    return chain
        .filter(next)
        .onErrorResume(
            e ->
                AdminErrors.write(
                    ex,
                    HttpStatus.SERVICE_UNAVAILABLE,
                    "unavailable",
                    upstreamName + " is unreachable from the gateway"));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "AdminToken[" + upstreamName + "]";
  }
}
