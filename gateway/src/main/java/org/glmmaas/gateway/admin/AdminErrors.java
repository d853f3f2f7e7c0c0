package org.glmmaas.gateway.admin;

import java.nio.charset.StandardCharsets;
import org.glmmaas.gateway.error.Json;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ObjectNode;

/**
 * Error bodies of the admin entry, in the shape auth-service's admin API uses: {@code
 * {"error":{"code":"unauthorized","message":"..."}}}.
 */
final class AdminErrors {

  private AdminErrors() {}

  static Mono<Void> write(ServerWebExchange ex, HttpStatus status, String code, String message) {
    ServerHttpResponse res = ex.getResponse();
    if (res.isCommitted()) {
      return Mono.empty();
    }
    res.setStatusCode(status);
    res.getHeaders().setContentType(MediaType.APPLICATION_JSON);
    res.getHeaders().setCacheControl("no-store");
    if (status == HttpStatus.UNAUTHORIZED) {
      res.getHeaders().set("WWW-Authenticate", "Bearer realm=\"glm-admin\"");
    }
    ObjectNode body = Json.object();
    ObjectNode err = body.putObject("error");
    err.put("code", code);
    err.put("message", message);
    byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
    return res.writeWith(Mono.just(res.bufferFactory().wrap(bytes)));
  }
}
