package org.glmmaas.gateway.metrics;

import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * Counts every API call ({@code /v1/**}, {@code /api/paas/v4/**}, vLLM's {@code /tokenize} and
 * {@code /detokenize}) by dialect, model and status once its response is written, and records the
 * latency the gateway added to calls that reached a worker. Errors escaping the handlers are
 * rendered here by the API error handler, so their status is known; a client that went away counts
 * as 499.
 */
public final class RequestMetricsFilter implements WebFilter, Ordered {

  private final GatewayMetrics metrics;
  private final WebExceptionHandler errors;

  public RequestMetricsFilter(GatewayMetrics metrics, WebExceptionHandler errors) {
    this.metrics = metrics;
    this.errors = errors;
  }

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    String path = exchange.getRequest().getPath().value();
    String dialect =
        path.startsWith("/v1/") || path.equals("/tokenize") || path.equals("/detokenize")
            ? "openai"
            : path.startsWith("/api/paas/v4/") ? "bigmodel" : null;
    if (dialect == null) {
      return chain.filter(exchange);
    }
    RequestTiming t = new RequestTiming(System.nanoTime());
    exchange.getAttributes().put(RequestTiming.ATTR, t);
    return chain
        .filter(exchange)
        .onErrorResume(e -> errors.handle(exchange, e))
        .doFinally(sig -> record(exchange, dialect, t, sig));
  }

  private void record(ServerWebExchange exchange, String dialect, RequestTiming t, SignalType sig) {
    HttpStatusCode st = exchange.getResponse().getStatusCode();
    int status = sig == SignalType.CANCEL ? 499 : st == null ? 200 : st.value();
    metrics.request(dialect, t.model(), status);
    long worker = t.workerNanos();
    if (worker >= 0 && sig != SignalType.CANCEL) {
      metrics.addedLatency(dialect, System.nanoTime() - t.startNanos() - worker);
    }
  }
}
