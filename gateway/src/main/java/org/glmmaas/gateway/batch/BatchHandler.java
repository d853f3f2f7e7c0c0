package org.glmmaas.gateway.batch;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.glmmaas.gateway.api.Admission;
import org.glmmaas.gateway.api.Responses;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Batches API of both dialects: create, get, list and cancel, each on the caller's own tenant's
 * batches only (another tenant's id is a 404 like an unknown one).
 */
public final class BatchHandler {

  private static final Logger log = LoggerFactory.getLogger(BatchHandler.class);

  static final Set<String> CREATE_FIELDS =
      Set.of("input_file_id", "endpoint", "completion_window", "metadata");
  static final Set<String> LIST_PARAMS = Set.of("limit", "after");
  static final int MAX_LIST = 100;
  static final int MAX_BODY = 64 * 1024;

  private final Admission admission;
  private final Batches batches;

  public BatchHandler(Admission admission, Batches batches) {
    this.admission = admission;
    this.batches = batches;
  }

  private static <T> Mono<T> blocking(java.util.concurrent.Callable<T> c) {
    return org.glmmaas.gateway.files.StoreCalls.blocking("batch store", c);
  }

  private static Mono<ServerResponse> json(Object node) {
    return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(Json.write(node));
  }

  private static GlmException notFound(String id) {
    return new GlmException(
        new GlmError.NotFound("no batch '" + BatchLines.printable(id) + "' for this account"));
  }

  private static Mono<byte[]> body(ServerRequest req) {
    return DataBufferUtils.join(req.exchange().getRequest().getBody(), MAX_BODY)
        .map(
            buf -> {
              byte[] b = new byte[buf.readableByteCount()];
              buf.read(b);
              DataBufferUtils.release(buf);
              return b;
            })
        .onErrorMap(
            DataBufferLimitException.class,
            e ->
                new GlmException(
                    new GlmError.PayloadTooLarge(
                        "request body exceeds the limit of " + MAX_BODY + " bytes")))
        .defaultIfEmpty(new byte[0]);
  }

  public Mono<ServerResponse> create(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(p -> body(req).map(b -> new Object[] {p, b}))
        .flatMap(
            pb -> {
              var p = (org.glmmaas.proto.auth.v1.Principal) pb[0];
              JsonNode n;
              try {
                n = Json.MAPPER.readTree((byte[]) pb[1]);
              } catch (RuntimeException e) {
                return Mono.error(GlmException.invalid("the body is not valid JSON", null));
              }
              if (n == null || !n.isObject()) {
                return Mono.error(GlmException.invalid("the body must be a JSON object", null));
              }
              for (String f : n.propertyNames()) {
                if (!CREATE_FIELDS.contains(f)) {
                  return Mono.error(
                      GlmException.invalid(
                          "unknown field '"
                              + BatchLines.printable(f)
                              + "'; a batch takes input_file_id, endpoint, completion_window and"
                              + " metadata",
                          f));
                }
              }
              JsonNode file = n.get("input_file_id");
              if (file == null || !file.isString() || file.asString().isEmpty()) {
                return Mono.error(
                    GlmException.invalid(
                        "'input_file_id' is required: a file id", "input_file_id"));
              }
              JsonNode ep = n.get("endpoint");
              String endpoint = ep != null && ep.isString() ? ep.asString() : "";
              if (!BatchLines.CHAT.contains(endpoint)
                  && !BatchLines.EMBEDDINGS.contains(endpoint)) {
                return Mono.error(
                    GlmException.invalid(
                        "endpoint must be /v1/chat/completions or /v1/embeddings (or their /v4/"
                            + " spellings), got '"
                            + BatchLines.printable(endpoint)
                            + "'",
                        "endpoint"));
              }
              JsonNode w = n.get("completion_window");
              if (w == null || !w.isString() || !w.asString().equals("24h")) {
                return Mono.error(
                    GlmException.invalid(
                        "completion_window must be \"24h\" (the only window offered)",
                        "completion_window"));
              }
              JsonNode meta = n.get("metadata");
              if (meta != null && !meta.isNull()) {
                if (!meta.isObject() || meta.size() > 16) {
                  return Mono.error(
                      GlmException.invalid(
                          "metadata must be an object of at most 16 string values", "metadata"));
                }
                for (String k : meta.propertyNames()) {
                  JsonNode v = meta.get(k);
                  if (k.length() > 64 || !v.isString() || v.asString().length() > 512) {
                    return Mono.error(
                        GlmException.invalid(
                            "metadata keys are at most 64 characters and values strings of at"
                                + " most 512",
                            "metadata"));
                  }
                }
              }
              return blocking(() -> batches.create(p, d.api(), file.asString(), endpoint, meta));
            })
        .flatMap(BatchHandler::json)
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  public Mono<ServerResponse> get(ServerRequest req, Dialect d) {
    String id = req.pathVariable("id");
    return admission
        .authenticate(req)
        .flatMap(
            p ->
                blocking(
                    () ->
                        batches.view(
                            batches.get(p.getTenantId(), id).orElseThrow(() -> notFound(id)))))
        .flatMap(BatchHandler::json)
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  public Mono<ServerResponse> cancel(ServerRequest req, Dialect d) {
    String id = req.pathVariable("id");
    return admission
        .authenticate(req)
        .flatMap(p -> blocking(() -> batches.cancel(p.getTenantId(), id)))
        .flatMap(BatchHandler::json)
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  public Mono<ServerResponse> list(ServerRequest req, Dialect d) {
    return admission
        .authenticate(req)
        .flatMap(
            p -> {
              for (String q : req.queryParams().keySet()) {
                if (!LIST_PARAMS.contains(q)) {
                  return Mono.error(
                      GlmException.invalid(
                          "unknown query parameter '"
                              + BatchLines.printable(q)
                              + "'; the list takes limit and after",
                          q));
                }
              }
              int limit;
              try {
                limit = Integer.parseInt(req.queryParam("limit").orElse("20"));
              } catch (NumberFormatException e) {
                limit = -1;
              }
              if (limit < 1 || limit > MAX_LIST) {
                return Mono.error(
                    GlmException.invalid(
                        "limit must be an integer from 1 to " + MAX_LIST, "limit"));
              }
              String after = req.queryParam("after").orElse(null);
              int n = limit;
              return blocking(() -> page(batches.store().list(p.getTenantId()), n, after));
            })
        .flatMap(BatchHandler::json)
        .onErrorResume(GlmException.class, e -> Responses.error(req, d, e.error()));
  }

  private ObjectNode page(List<ObjectNode> all, int limit, String after) throws IOException {
    List<ObjectNode> sorted =
        all.stream()
            .sorted(
                // newest first: created_at has whole seconds, so the creation's microseconds
                // (batches made before that field: the second's start) order one second's batches
                Comparator.comparingLong(
                        (ObjectNode b) ->
                            b.has("_created_us")
                                ? b.get("_created_us").asLong()
                                : b.get("created_at").asLong() * 1_000_000L)
                    .thenComparing(b -> b.get("id").asString())
                    .reversed())
            .toList();
    int start = 0;
    if (after != null) {
      int i = 0;
      while (i < sorted.size() && !sorted.get(i).get("id").asString().equals(after)) {
        i++;
      }
      if (i == sorted.size()) {
        throw GlmException.invalid(
            "after '" + BatchLines.printable(after) + "' is not a batch of this account", "after");
      }
      start = i + 1;
    }
    int end = Math.min(sorted.size(), start + limit);
    ObjectNode n = Json.object();
    n.put("object", "list");
    ArrayNode data = n.putArray("data");
    for (ObjectNode b : sorted.subList(start, end)) {
      data.add(batches.view(b));
    }
    if (end > start) {
      n.put("first_id", sorted.get(start).get("id").asString());
      n.put("last_id", sorted.get(end - 1).get("id").asString());
    } else {
      n.putNull("first_id");
      n.putNull("last_id");
    }
    n.put("has_more", end < sorted.size());
    return n;
  }
}
