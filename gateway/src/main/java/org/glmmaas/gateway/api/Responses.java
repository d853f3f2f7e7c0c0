package org.glmmaas.gateway.api;

import java.nio.charset.StandardCharsets;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.ratelimit.RateLimiter;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Writes errors and x-ratelimit-* headers the same way for every handler. */
public final class Responses {

  /** Exchange attribute holding the {@link RateLimiter.Headers} of the current call. */
  public static final String RATE_LIMIT_ATTR = "glm.ratelimit";

  private Responses() {}

  public static Mono<ServerResponse> error(ServerRequest req, Dialect d, GlmError e) {
    return ServerResponse.status(e.httpStatus())
        .headers(h -> errorHeaders(h, e, rateLimits(req.exchange())))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(d.errorBody(e).getBytes(StandardCharsets.UTF_8));
  }

  /** Writes an error straight to an exchange (for the WebExceptionHandler). */
  public static Mono<Void> error(ServerWebExchange ex, Dialect d, GlmError e) {
    var resp = ex.getResponse();
    resp.setStatusCode(HttpStatus.valueOf(e.httpStatus()));
    errorHeaders(resp.getHeaders(), e, rateLimits(ex));
    resp.getHeaders().setContentType(MediaType.APPLICATION_JSON);
    byte[] body = d.errorBody(e).getBytes(StandardCharsets.UTF_8);
    return resp.writeWith(Mono.just(resp.bufferFactory().wrap(body)));
  }

  public static void errorHeaders(HttpHeaders h, GlmError e, RateLimiter.Headers rl) {
    if (e.retryAfter() != null) {
      h.set("Retry-After", Long.toString(Math.max(1, (e.retryAfter().toMillis() + 999) / 1000)));
      h.set("retry-after-ms", Long.toString(e.retryAfter().toMillis()));
    }
    if (!e.retryable()) {
      h.set("x-should-retry", "false");
    }
    rateLimitHeaders(h, rl);
  }

  public static RateLimiter.Headers rateLimits(ServerWebExchange ex) {
    return ex.getAttribute(RATE_LIMIT_ATTR);
  }

  public static void rateLimitHeaders(HttpHeaders h, RateLimiter.Headers rl) {
    if (rl == null) {
      return;
    }
    if (rl.limitRequests() > 0) {
      h.set("x-ratelimit-limit-requests", Long.toString(rl.limitRequests()));
      h.set("x-ratelimit-remaining-requests", Long.toString(rl.remainingRequests()));
      h.set("x-ratelimit-reset-requests", RateLimiter.formatReset(rl.resetRequests()));
    }
    if (rl.limitTokens() > 0) {
      h.set("x-ratelimit-limit-tokens", Long.toString(rl.limitTokens()));
      h.set("x-ratelimit-remaining-tokens", Long.toString(rl.remainingTokens()));
      h.set("x-ratelimit-reset-tokens", RateLimiter.formatReset(rl.resetTokens()));
    }
  }
}
