package org.glmmaas.gateway.admin;

import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * One log line per request on a Spring Cloud Gateway route (admin pass-through, console assets):
 * method, path, status, latency and route. Never the query string, a header or a body, so no token
 * or key reaches the log. Console assets log at DEBUG (a page load fetches several).
 */
public final class RequestLogFilter implements GlobalFilter, Ordered {

  private static final Logger log = LoggerFactory.getLogger("org.glmmaas.gateway.access");

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange ex, GatewayFilterChain chain) {
    long start = System.nanoTime();
    String method = ex.getRequest().getMethod().name();
    String path = printable(ex.getRequest().getPath().value());
    Route route = ex.getAttribute(GATEWAY_ROUTE_ATTR);
    String routeId = route == null ? "?" : route.getId();
    return chain.filter(ex).doFinally(sig -> log(ex, sig, method, path, routeId, start));
  }

  private static void log(
      ServerWebExchange ex,
      SignalType sig,
      String method,
      String path,
      String routeId,
      long start) {
    HttpStatusCode st = ex.getResponse().getStatusCode();
    int status = sig == SignalType.CANCEL ? 499 : st == null ? 200 : st.value();
    long ms = (System.nanoTime() - start) / 1_000_000;
    Level level = routeId.startsWith("console") && status < 400 ? Level.DEBUG : Level.INFO;
    log.atLevel(level)
        .addKeyValue("http.request.method", method)
        .addKeyValue("url.path", path)
        .addKeyValue("http.response.status_code", status)
        .addKeyValue("event.duration_ms", ms)
        .addKeyValue("route", routeId)
        .log("{} {} {} {} ms (route {})", method, path, status, ms, routeId);
  }

  /** Control characters and non-ASCII become '?' (a path cannot forge a log line). */
  static String printable(String s) {
    String p = s.replaceAll("[^\\x20-\\x7e]", "?");
    return p.length() > 256 ? p.substring(0, 256) + "..." : p;
  }
}
