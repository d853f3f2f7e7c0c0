package org.glmmaas.gateway.admin;

import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.util.unit.DataSize;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Refuses an admin request whose body is larger than the limit before anything reads it: a larger
 * {@code Content-Length} is a 413, a body sent without one (chunked) a 411, since its size could
 * only be known by reading it. Spring Cloud Gateway's own RequestSize filter covers only the first
 * case and answers with an empty body.
 */
final class BodySizeLimitFilter implements GatewayFilter {

  private final DataSize max;

  BodySizeLimitFilter(DataSize max) {
    this.max = max;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange ex, GatewayFilterChain chain) {
    HttpHeaders h = ex.getRequest().getHeaders();
    long length = h.getContentLength();
    if (length > max.toBytes()) {
      return AdminErrors.write(
          ex,
          HttpStatus.CONTENT_TOO_LARGE,
          "request_too_large",
          "request body of " + length + " bytes exceeds the admin limit of " + max.toBytes());
    }
    if (length < 0 && h.containsHeader(HttpHeaders.TRANSFER_ENCODING)) {
      return AdminErrors.write(
          ex,
          HttpStatus.LENGTH_REQUIRED,
          "length_required",
          "admin requests with a body must send Content-Length");
    }
    return chain.filter(ex);
  }

  @Override
  public String toString() {
    return "BodySizeLimit[" + max + "]";
  }
}
