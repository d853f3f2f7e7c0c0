package org.glmmaas.gateway.admin;

import java.util.List;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.routing.WorkerEndpoint;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /admin/gateway/v1/workers}: every worker this gateway routes to, from its latest
 * WatchLoad report. Served on an internal path that only the admin route forwards to: a request
 * that did not pass the admin token check is a 404.
 */
final class WorkersHandler {

  static final String INTERNAL_PATH = "/internal/admin/gateway/workers";

  private final List<WorkerEndpoint> workers;

  WorkersHandler(List<WorkerEndpoint> workers) {
    this.workers = workers;
  }

  Mono<ServerResponse> list(ServerRequest req) {
    if (req.attribute(AdminTokenFilter.VERIFIED).isEmpty()) {
      return ServerResponse.notFound().build();
    }
    long now = System.currentTimeMillis();
    ObjectNode body = Json.object();
    ArrayNode data = body.putArray("data");
    for (WorkerEndpoint w : workers) {
      data.add(view(w, now));
    }
    return ServerResponse.ok()
        .contentType(MediaType.APPLICATION_JSON)
        .cacheControl(CacheControl.noStore())
        .bodyValue(Json.write(body));
  }

  static ObjectNode view(WorkerEndpoint w, long nowMs) {
    ObjectNode n = Json.object();
    LoadReport r = w.load();
    n.put("worker_id", w.workerId());
    n.put("address", w.address());
    n.put("model", r != null && !r.getModel().isEmpty() ? r.getModel() : w.lastModel());
    n.put("state", r == null ? "UNREACHABLE" : r.getState().name().replace("WORKER_STATE_", ""));
    n.put("routable", w.ready());
    n.put("quarantined", w.quarantined());
    n.put("in_flight", w.inFlight());
    if (r == null) {
      return n;
    }
    n.put("device", r.getDevice());
    n.put("num_running", r.getNumRunning());
    n.put("num_waiting", r.getNumWaiting());
    n.put("num_kv_blocks_free", r.getNumKvBlocksFree());
    n.put("num_kv_blocks_total", r.getNumKvBlocksTotal());
    n.put(
        "kv_cache_usage",
        r.getNumKvBlocksTotal() > 0
            ? 1.0 - (double) r.getNumKvBlocksFree() / r.getNumKvBlocksTotal()
            : 0.0);
    n.put(
        "prefix_cache_hit_rate",
        r.getPrefixCacheQueries() > 0
            ? (double) r.getPrefixCacheHits() / r.getPrefixCacheQueries()
            : 0.0);
    n.put("step_time_ms", r.getStepTimeMs());
    n.put("decode_tokens_per_second", decodeTokensPerSecond(r));
    n.put("report_age_ms", Math.max(0, nowMs - r.getTimestampUnixMs()));
    return n;
  }

  /**
   * Tokens per second the worker is decoding now, from its report: every running sequence gains one
   * token per engine step, so running / mean step time. An estimate (prefill steps count as steps
   * too); 0 when idle.
   */
  static double decodeTokensPerSecond(LoadReport r) {
    if (r.getNumRunning() <= 0 || r.getStepTimeMs() <= 0) {
      return 0.0;
    }
    return r.getNumRunning() * 1000.0 / r.getStepTimeMs();
  }
}
