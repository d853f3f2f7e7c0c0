package org.glmmaas.gateway.batch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.files.FileStore;
import org.glmmaas.gateway.files.StoredFile;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.gateway.request.ChatRequestParser;
import org.glmmaas.proto.auth.v1.Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The batch lifecycle: {@code validating → in_progress → finalizing → completed}, or {@code failed}
 * (bad lines), {@code expired} (the 24 h window ended first) and {@code cancelling → cancelled}.
 * The batch object is the OpenAI/BigModel one; fields starting with {@code _} are the gateway's own
 * and never shown.
 */
public final class Batches {

  private static final Logger log = LoggerFactory.getLogger(Batches.class);

  /** States in which lines may still run (and count against the tenant's token cap). */
  static final Set<String> ACTIVE = Set.of("validating", "in_progress", "finalizing", "cancelling");

  static final Duration WINDOW = Duration.ofHours(24);

  private final FolderBatchStore store;
  private final FileStore files;
  private final BatchQueue queue;
  private final ChatRequestParser parser;
  private final java.util.function.Consumer<String> modelCheck;
  private final java.util.function.Consumer<org.glmmaas.gateway.request.EmbedCall> embedCheck;
  private final int defaultMaxTokens;
  private final long tenantTokenCap;
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  /**
   * @param queue the Kafka topic lines go to; null without Kafka (a create is then a 503)
   * @param embedCheck refuses an embeddings line whose model is a chat model (or cannot honour its
   *     dimensions), as the /v1/embeddings handler does
   * @param tenantTokenCap most tokens (prompt bound + max_tokens per line) one tenant may have
   *     enqueued in unfinished batches
   */
  public Batches(
      FolderBatchStore store,
      FileStore files,
      BatchQueue queue,
      ChatRequestParser parser,
      java.util.function.Consumer<String> modelCheck,
      java.util.function.Consumer<org.glmmaas.gateway.request.EmbedCall> embedCheck,
      int defaultMaxTokens,
      long tenantTokenCap) {
    this.store = store;
    this.files = files;
    this.queue = queue;
    this.parser = parser;
    this.modelCheck = modelCheck;
    this.embedCheck = embedCheck;
    this.defaultMaxTokens = defaultMaxTokens;
    this.tenantTokenCap = tenantTokenCap;
  }

  FolderBatchStore store() {
    return store;
  }

  private Object lock(String id) {
    return locks.computeIfAbsent(id, k -> new Object());
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  private static final java.util.concurrent.atomic.AtomicLong LAST_CREATED_US =
      new java.util.concurrent.atomic.AtomicLong();

  /** Wall-clock microseconds, strictly increasing within this gateway. */
  static long createdMicros() {
    java.time.Instant t = java.time.Instant.now();
    long us = t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
    return LAST_CREATED_US.accumulateAndGet(us, (last, x) -> Math.max(last + 1, x));
  }

  /** Creates, validates and enqueues a batch; answers its object. */
  public ObjectNode create(
      Principal p, Api api, String inputFileId, String endpoint, JsonNode metadata)
      throws IOException {
    String tenant = p.getTenantId();
    if (queue == null) {
      throw new GlmException(
          new GlmError.Unavailable(
              "batches need Kafka, and this gateway has none configured"
                  + " (spring.kafka.bootstrap-servers)",
              null));
    }
    StoredFile f =
        files
            .get(tenant, inputFileId)
            .orElseThrow(
                () ->
                    GlmException.invalid(
                        "no file '" + BatchLines.printable(inputFileId) + "' for this account",
                        "input_file_id"));
    if (!"batch".equals(f.purpose())) {
      throw GlmException.invalid(
          "file '"
              + inputFileId
              + "' has purpose '"
              + f.purpose()
              + "'; a batch's input must be uploaded with purpose=batch",
          "input_file_id");
    }
    BatchLines.Checked checked;
    try (InputStream in =
        files
            .open(tenant, inputFileId)
            .orElseThrow(
                () -> GlmException.invalid("no file '" + inputFileId + "'", "input_file_id"))) {
      checked =
          BatchLines.check(
              in,
              p,
              BatchLines.EMBEDDINGS.contains(endpoint),
              parser,
              modelCheck,
              embedCheck,
              defaultMaxTokens);
    }
    long now = now();
    ObjectNode b = Json.object();
    b.put("id", BatchIds.next());
    b.put("object", "batch");
    b.put("endpoint", endpoint);
    b.putNull("errors");
    b.put("input_file_id", inputFileId);
    b.put("completion_window", "24h");
    b.put("status", "validating");
    b.putNull("output_file_id");
    b.putNull("error_file_id");
    b.put("created_at", now);
    // internal: orders the list within one second (created_at has whole seconds)
    b.put("_created_us", createdMicros());
    b.putNull("in_progress_at");
    b.put("expires_at", now + WINDOW.toSeconds());
    for (String k :
        List.of(
            "finalizing_at",
            "completed_at",
            "failed_at",
            "expired_at",
            "cancelling_at",
            "cancelled_at")) {
      b.putNull(k);
    }
    ObjectNode counts = b.putObject("request_counts");
    counts.put("total", 0);
    counts.put("completed", 0);
    counts.put("failed", 0);
    if (metadata == null || metadata.isNull()) {
      b.putNull("metadata");
    } else {
      b.set("metadata", metadata);
    }
    b.put("_tenant", tenant);
    b.put("_key", p.getKeyId());
    b.put("_api", api.name());
    String id = b.get("id").asString();
    if (checked.lines().isEmpty() && checked.problems().isEmpty()) {
      throw GlmException.invalid(
          "file '" + inputFileId + "' holds no requests (only blank lines)", "input_file_id");
    }
    if (!checked.problems().isEmpty()) {
      return failValidation(b, checked.problems());
    }
    long tokens = 0;
    for (BatchLines.Line l : checked.lines()) {
      tokens += l.tokens();
    }
    long enqueued = enqueuedTokens(tenant);
    if (enqueued + tokens > tenantTokenCap) {
      throw new GlmException(
          new GlmError.RateLimited(
              "this batch needs up to "
                  + tokens
                  + " tokens (prompts + max_tokens) and this account has "
                  + enqueued
                  + " enqueued in unfinished batches; the limit is "
                  + tenantTokenCap
                  + " enqueued tokens. Wait for a batch to finish or cancel one",
              "1303",
              Duration.ofSeconds(60),
              "tokens"));
    }
    b.put("_model", checked.model());
    b.put("_tokens", tokens);
    counts.put("total", checked.lines().size());
    store.put(b);
    List<byte[]> raw = new ArrayList<>();
    for (BatchLines.Line l : checked.lines()) {
      raw.add(l.raw());
    }
    long[][] at = store.writeInput(tenant, id, raw);
    try {
      List<BatchQueue.Item> items = new ArrayList<>();
      for (int i = 0; i < at.length; i++) {
        items.add(
            new BatchQueue.Item(
                tenant, id, checked.lines().get(i).customId(), at[i][0], (int) at[i][1]));
      }
      queue.enqueue(items);
    } catch (Exception e) {
      log.warn("enqueueing batch {} failed: {}", id, e.toString());
      b.put("status", "failed");
      b.put("failed_at", now());
      b.set(
          "errors",
          errorList(List.of(error("enqueue_failed", "Kafka did not take the requests", null))));
      store.put(b);
      throw new GlmException(
          new GlmError.Unavailable(
              "the batch queue is unavailable, retry shortly", Duration.ofSeconds(5)));
    }
    b.put("status", "in_progress");
    b.put("in_progress_at", now());
    store.put(b);
    return view(b);
  }

  private ObjectNode failValidation(ObjectNode b, List<BatchLines.Problem> problems)
      throws IOException {
    String tenant = b.get("_tenant").asString();
    String id = b.get("id").asString();
    List<ObjectNode> list = new ArrayList<>();
    StringBuilder lines = new StringBuilder();
    for (BatchLines.Problem pr : problems) {
      list.add(pr.errorNode());
      ObjectNode l = Json.object();
      l.put("id", "batch_req_line_" + pr.line());
      if (pr.customId() != null) {
        l.put("custom_id", pr.customId());
      } else {
        l.putNull("custom_id");
      }
      l.putNull("response");
      l.set("error", pr.errorNode());
      lines.append(Json.write(l)).append('\n');
    }
    b.put("status", "failed");
    b.put("failed_at", now());
    b.set("errors", errorList(list));
    b.put("_validated", false);
    Path tmp = files.incoming().resolve("batch-errors-" + UUID.randomUUID());
    Files.writeString(tmp, lines.toString(), StandardCharsets.UTF_8);
    try {
      StoredFile ef =
          files.create(tenant, id + "_errors.jsonl", "batch_output", tmp, Files.size(tmp));
      b.put("error_file_id", ef.id());
    } finally {
      Files.deleteIfExists(tmp);
    }
    store.put(b);
    return view(b);
  }

  static ObjectNode error(String code, String message, Integer line) {
    ObjectNode e = Json.object();
    e.put("code", code);
    e.put("message", message);
    e.putNull("param");
    if (line != null) {
      e.put("line", line);
    } else {
      e.putNull("line");
    }
    return e;
  }

  private static ObjectNode errorList(List<ObjectNode> data) {
    ObjectNode n = Json.object();
    n.put("object", "list");
    ArrayNode a = n.putArray("data");
    data.forEach(a::add);
    return n;
  }

  /** Tokens the tenant's unfinished batches may still use (their unfinished lines' share). */
  long enqueuedTokens(String tenant) throws IOException {
    long sum = 0;
    for (ObjectNode b : store.list(tenant)) {
      if (!ACTIVE.contains(b.get("status").asString()) || !b.has("_tokens")) {
        continue;
      }
      long total = b.get("request_counts").get("total").asLong();
      FolderBatchStore.Results r = store.results(tenant, b.get("id").asString());
      long left = Math.max(0, total - r.completed() - r.failed());
      sum += total == 0 ? 0 : b.get("_tokens").asLong() * left / total;
    }
    return sum;
  }

  /** The client's view: without the gateway's own fields, with live request counts. */
  ObjectNode view(ObjectNode b) throws IOException {
    ObjectNode v = b.deepCopy();
    Iterator<String> names = b.propertyNames().iterator();
    while (names.hasNext()) {
      String n = names.next();
      if (n.startsWith("_")) {
        v.remove(n);
      }
    }
    if (b.has("_tokens")) {
      FolderBatchStore.Results r =
          store.results(b.get("_tenant").asString(), b.get("id").asString());
      ObjectNode c = (ObjectNode) v.get("request_counts");
      c.put("completed", r.completed());
      c.put("failed", r.failed());
    }
    return v;
  }

  Optional<ObjectNode> get(String tenant, String id) throws IOException {
    return store.get(tenant, id);
  }

  /** Cancels a validating or in_progress batch: lines not yet running are not run. */
  ObjectNode cancel(String tenant, String id) throws IOException {
    ObjectNode b;
    synchronized (lock(id)) {
      b =
          store
              .get(tenant, id)
              .orElseThrow(
                  () ->
                      new GlmException(
                          new GlmError.NotFound(
                              "no batch '" + BatchLines.printable(id) + "' for this account")));
      String s = b.get("status").asString();
      if (s.equals("cancelling") || s.equals("cancelled")) {
        return view(b);
      }
      if (!s.equals("validating") && !s.equals("in_progress")) {
        throw GlmException.invalid(
            "batch '"
                + id
                + "' is "
                + s
                + "; only a validating or in_progress batch can be cancelled",
            null);
      }
      b.put("status", "cancelling");
      b.put("cancelling_at", now());
      store.put(b);
    }
    stopRest(b, "batch_cancelled", "the batch was cancelled before this request ran");
    finish(tenant, id);
    return view(store.get(tenant, id).orElse(b));
  }

  /** Writes an error line for every line of the batch that has none and is not running. */
  private void stopRest(ObjectNode b, String code, String message) throws IOException {
    String tenant = b.get("_tenant").asString();
    String id = b.get("id").asString();
    if (!b.has("_tokens")) {
      return;
    }
    FolderBatchStore.Results r = store.results(tenant, id);
    for (String cid : r.claimMissing(store.inputIds(tenant, id))) {
      r.append(cid, stoppedLine(id, cid, code, message), true);
    }
  }

  static String stoppedLine(String batchId, String customId, String code, String message) {
    ObjectNode l = Json.object();
    l.put("id", lineId(batchId, customId));
    l.put("custom_id", customId);
    l.putNull("response");
    ObjectNode e = l.putObject("error");
    e.put("code", code);
    e.put("message", message);
    return Json.write(l);
  }

  static String lineId(String batchId, String customId) {
    String r = BatchIds.requestId(batchId, customId);
    return "batch_req_" + r.substring(r.lastIndexOf('-') + 1);
  }

  /** Marks a batch whose window ended as expiring and stops its lines not yet run. */
  void expire(String tenant, String id) throws IOException {
    ObjectNode b;
    synchronized (lock(id)) {
      b = store.get(tenant, id).orElse(null);
      if (b == null || !b.get("status").asString().equals("in_progress")) {
        return;
      }
      if (!b.path("_expired").asBoolean(false)) {
        b.put("_expired", true);
        store.put(b);
      }
    }
    stopRest(b, "batch_expired", "the batch's 24h completion window ended before this request ran");
    finish(tenant, id);
  }

  /**
   * When every line has its result: {@code finalizing}, the output and error files published to the
   * file store, then {@code completed}, {@code cancelled} or {@code expired}.
   */
  void finish(String tenant, String id) throws IOException {
    synchronized (lock(id)) {
      ObjectNode b = store.get(tenant, id).orElse(null);
      if (b == null || !b.has("_tokens")) {
        return;
      }
      String s = b.get("status").asString();
      if (!s.equals("in_progress") && !s.equals("cancelling") && !s.equals("finalizing")) {
        return;
      }
      FolderBatchStore.Results r = store.results(tenant, id);
      long total = b.get("request_counts").get("total").asLong();
      if (r.completed() + r.failed() < total || r.running() > 0) {
        return;
      }
      if (s.equals("in_progress")) {
        b.put("status", "finalizing");
        b.put("finalizing_at", now());
        store.put(b);
      }
      if (b.get("output_file_id").isNull() && r.completed() > 0) {
        b.put("output_file_id", publish(tenant, id + "_output.jsonl", r.output()));
        store.put(b);
      }
      if (b.get("error_file_id").isNull() && r.failed() > 0) {
        b.put("error_file_id", publish(tenant, id + "_errors.jsonl", r.errors()));
        store.put(b);
      }
      String end =
          b.get("status").asString().equals("cancelling")
              ? "cancelled"
              : b.path("_expired").asBoolean(false) ? "expired" : "completed";
      b.put("status", end);
      b.put(end + "_at", now());
      ObjectNode c = (ObjectNode) b.get("request_counts");
      c.put("completed", r.completed());
      c.put("failed", r.failed());
      store.put(b);
      log.info(
          "batch {} {}: {} completed, {} failed of {}", id, end, r.completed(), r.failed(), total);
    }
  }

  private String publish(String tenant, String name, Path src) throws IOException {
    Path tmp = files.incoming().resolve("batch-out-" + UUID.randomUUID());
    Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
    try {
      return files.create(tenant, name, "batch_output", tmp, Files.size(tmp)).id();
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * One pass over every batch: finishes those whose lines all have results, expires those past
   * their window, and fails those a restart left in {@code validating}.
   */
  void sweep(long startedAt) {
    List<ObjectNode> all;
    try {
      all = store.all();
    } catch (IOException e) {
      log.warn("reading the batch store failed: {}", e.toString());
      return;
    }
    for (ObjectNode b : all) {
      String tenant = b.get("_tenant").asString();
      String id = b.get("id").asString();
      String s = b.get("status").asString();
      try {
        if (s.equals("validating") && b.get("created_at").asLong() < startedAt) {
          synchronized (lock(id)) {
            b.put("status", "failed");
            b.put("failed_at", now());
            b.set(
                "errors",
                errorList(
                    List.of(
                        error(
                            "gateway_restarted",
                            "the gateway restarted while this batch was being validated; create"
                                + " it again",
                            null))));
            store.put(b);
          }
        } else if (s.equals("in_progress") && now() >= b.get("expires_at").asLong()) {
          expire(tenant, id);
        } else if (ACTIVE.contains(s)) {
          finish(tenant, id);
        }
      } catch (IOException | RuntimeException e) {
        log.warn("sweeping batch {} failed: {}", id, e.toString());
      }
    }
  }
}
