package org.glmmaas.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.routing.WorkerEndpoint;

/**
 * The gateway's meters, exported as {@code glm_gateway_*}. Labels stay low-cardinality: dialect
 * (openai|bigmodel), a served model (or "none"), HTTP status, limit kind, worker state — never a
 * key, tenant or request id. Meters are cached per label set, so a request allocates none.
 *
 * <ul>
 *   <li>{@code glm_gateway_requests_total{dialect,model,status}}
 *   <li>{@code glm_gateway_added_latency_seconds{dialect}}: a call's time in the gateway minus its
 *       time waiting on the worker (calls that reached one)
 *   <li>{@code glm_gateway_time_to_first_token_seconds{model}}: arrival to the first delta
 *   <li>{@code glm_gateway_requests_in_flight}: calls streaming from a worker now
 *   <li>{@code glm_gateway_rate_limit_rejections_total{limit}}: concurrency|requests|tokens
 *   <li>{@code glm_gateway_workers{state}}: ready|unhealthy (known but not routable)
 * </ul>
 */
public final class GatewayMetrics {

  private final MeterRegistry registry;
  private final Map<String, Counter> requests = new ConcurrentHashMap<>();
  private final Map<String, Timer> added = new ConcurrentHashMap<>();
  private final Map<String, Timer> ttft = new ConcurrentHashMap<>();
  private final Map<String, Counter> rejections = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  public GatewayMetrics(MeterRegistry registry, List<WorkerEndpoint> workers) {
    this.registry = registry;
    Gauge.builder("glm.gateway.requests.in.flight", inFlight, AtomicInteger::get)
        .description("chat calls streaming from a worker now")
        .register(registry);
    Gauge.builder(
            "glm.gateway.workers", workers, ws -> ws.stream().filter(WorkerEndpoint::ready).count())
        .tag("state", "ready")
        .description("workers known to the gateway, by state")
        .register(registry);
    Gauge.builder("glm.gateway.workers", workers, ws -> ws.stream().filter(w -> !w.ready()).count())
        .tag("state", "unhealthy")
        .description("workers known to the gateway, by state")
        .register(registry);
  }

  public void request(String dialect, String model, int status) {
    String key = dialect + '\u0000' + model + '\u0000' + status;
    requests
        .computeIfAbsent(
            key,
            k ->
                Counter.builder("glm.gateway.requests")
                    .description("API calls answered, by dialect, model and HTTP status")
                    .tags("dialect", dialect, "model", model, "status", Integer.toString(status))
                    .register(registry))
        .increment();
  }

  public void addedLatency(String dialect, long nanos) {
    added
        .computeIfAbsent(
            dialect,
            d ->
                Timer.builder("glm.gateway.added.latency")
                    .description(
                        "time a call spent in the gateway, minus its time waiting on the worker")
                    .tag("dialect", d)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry))
        .record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
  }

  public void timeToFirstToken(String model, long nanos) {
    ttft.computeIfAbsent(
            model,
            m ->
                Timer.builder("glm.gateway.time.to.first.token")
                    .description(
                        "arrival of a chat call to its first generated text, as the gateway sees it")
                    .tag("model", m)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofMinutes(2))
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void rateLimited(GlmError denial) {
    String limit =
        denial instanceof GlmError.RateLimited r
            ? ("1302".equals(r.bigModelCode()) ? "concurrency" : r.kind())
            : "other";
    rejections
        .computeIfAbsent(
            limit,
            l ->
                Counter.builder("glm.gateway.rate.limit.rejections")
                    .description("calls refused by a rate or concurrency limit")
                    .tag("limit", l)
                    .register(registry))
        .increment();
  }

  public void callStarted() {
    inFlight.incrementAndGet();
  }

  public void callEnded() {
    inFlight.decrementAndGet();
  }
}
