package org.glmmaas.gateway.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.glmmaas.gateway.api.ChatHandler;
import org.glmmaas.gateway.api.EmbeddingsHandler;
import org.glmmaas.gateway.billing.BillingClient;
import org.glmmaas.gateway.billing.FallbackUsage;
import org.glmmaas.gateway.dialect.Dialect;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.request.Api;
import org.glmmaas.gateway.request.ChatRequest;
import org.glmmaas.gateway.request.ChatRequestParser;
import org.glmmaas.gateway.request.EmbedCall;
import org.glmmaas.gateway.routing.InferenceClient;
import org.glmmaas.proto.billing.v1.ReserveRequest;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The consumer group {@code glm-gateway-batch} of {@code glm.batch-requests.v1}: runs each line on
 * a worker at a low scheduler priority, at most {@code perWorker} lines per worker at once, and
 * commits a poll's offsets only when every line of it has its result line durable (and, for a
 * success, its usage event acknowledged by Kafka before that). A line runs under a request id
 * derived from (batch id, custom_id), so a line run twice (a redelivery after any restart) is
 * billed once by the ledger and written once (the result files refuse a second line per custom_id).
 */
public final class BatchRunner implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BatchRunner.class);

  /** The worker scheduler's priority of batch lines (interactive calls are 0; lower runs first). */
  public static final int PRIORITY = 10;

  public static final String GROUP = "glm-gateway-batch";

  private final Batches batches;
  private final ChatHandler chat;
  private final InferenceClient inference;
  private final ChatRequestParser parser;
  private final Dialect openAi;
  private final Dialect bigModel;
  private final BillingClient billing;
  private final FallbackUsage usage;
  private final IntSupplier maxInFlight;
  private final Duration timeout;
  private final int defaultMaxTokens;
  private final KafkaConsumer<String, String> consumer;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread loop;
  private final Thread sweeper;
  private final Object slots = new Object();
  private int inFlight;

  public BatchRunner(
      String bootstrap,
      Batches batches,
      ChatHandler chat,
      InferenceClient inference,
      ChatRequestParser parser,
      Dialect openAi,
      Dialect bigModel,
      BillingClient billing,
      FallbackUsage usage,
      IntSupplier maxInFlight,
      Duration timeout,
      int defaultMaxTokens,
      Duration sweepEvery) {
    this.batches = batches;
    this.chat = chat;
    this.inference = inference;
    this.parser = parser;
    this.openAi = openAi;
    this.bigModel = bigModel;
    this.billing = billing;
    this.usage = usage;
    this.maxInFlight = maxInFlight;
    this.timeout = timeout;
    this.defaultMaxTokens = defaultMaxTokens;
    this.consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG,
                GROUP,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                64,
                // a poll's lines may wait long for a worker that is down
                ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                3_600_000),
            new StringDeserializer(),
            new StringDeserializer());
    long started = Batches.now();
    this.loop = Thread.ofPlatform().name("batch-consumer").daemon().unstarted(this::run);
    this.sweeper =
        Thread.ofPlatform()
            .name("batch-sweeper")
            .daemon()
            .unstarted(
                () -> {
                  while (running.get()) {
                    batches.sweep(started);
                    try {
                      Thread.sleep(sweepEvery.toMillis());
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
  }

  public BatchRunner start() {
    loop.start();
    sweeper.start();
    return this;
  }

  private void run() {
    try {
      consumer.subscribe(List.of(BatchQueue.TOPIC));
      while (running.get()) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
        if (records.isEmpty()) {
          continue;
        }
        List<Thread> tasks = new ArrayList<>();
        for (ConsumerRecord<String, String> rec : records) {
          acquire();
          tasks.add(
              Thread.ofVirtual()
                  .name("batch-line")
                  .start(
                      () -> {
                        try {
                          handle(rec.value());
                        } catch (RuntimeException e) {
                          log.error("a batch line failed unexpectedly", e);
                        } finally {
                          release();
                        }
                      }));
        }
        for (Thread t : tasks) {
          t.join();
        }
        if (running.get()) {
          consumer.commitSync();
        }
      }
    } catch (WakeupException | InterruptedException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("the batch consumer stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void acquire() throws InterruptedException {
    synchronized (slots) {
      while (inFlight >= Math.max(1, maxInFlight.getAsInt())) {
        slots.wait(100);
      }
      inFlight++;
    }
  }

  private void release() {
    synchronized (slots) {
      inFlight--;
      slots.notifyAll();
    }
  }

  /** One record: runs its line unless it has a result already (a redelivery) or must stop. */
  void handle(String value) {
    BatchQueue.Item item = BatchQueue.Item.parse(value);
    String tenant = item.tenant();
    String id = item.batchId();
    try {
      ObjectNode b = batches.store().get(tenant, id).orElse(null);
      if (b == null || !b.has("_tokens")) {
        return;
      }
      String status = b.get("status").asString();
      if (!Batches.ACTIVE.contains(status)) {
        return;
      }
      FolderBatchStore.Results r = batches.store().results(tenant, id);
      if (!r.claim(item.customId())) {
        return; // done already, or running here now
      }
      try {
        runLine(b, r, item);
      } finally {
        r.unclaim(item.customId());
      }
      batches.finish(tenant, id);
    } catch (java.io.IOException e) {
      // the result could not be written: the offset is still committed only after the poll, so
      // stop the loop (the next consumer of the partition runs the line again)
      log.error("batch {}: a result could not be stored: {}", id, e.toString());
      running.set(false);
      consumer.wakeup();
    }
  }

  private String stopReason(String tenant, String id) throws java.io.IOException {
    ObjectNode b = batches.store().get(tenant, id).orElse(null);
    if (b == null) {
      return "batch_cancelled";
    }
    String s = b.get("status").asString();
    if (s.equals("cancelling") || s.equals("cancelled")) {
      return "batch_cancelled";
    }
    if (Batches.now() >= b.get("expires_at").asLong() || b.path("_expired").asBoolean(false)) {
      return "batch_expired";
    }
    return null;
  }

  private void runLine(ObjectNode b, FolderBatchStore.Results r, BatchQueue.Item item)
      throws java.io.IOException {
    String tenant = item.tenant();
    String id = item.batchId();
    String cid = item.customId();
    String requestId = BatchIds.requestId(id, cid);
    JsonNode line =
        Json.MAPPER.readTree(batches.store().readInput(tenant, id, item.offset(), item.length()));
    String url = line.get("url").asString();
    Api api = BatchLines.api(url);
    Dialect d = api == Api.OPENAI ? openAi : bigModel;
    if (BatchLines.EMBEDDINGS.contains(url)) {
      runEmbedLine(b, r, item, line, d);
      return;
    }
    ChatRequest call;
    try {
      call = parser.parse(line.get("body"), api);
    } catch (GlmException e) {
      r.append(cid, failedLine(id, cid, requestId, d, e.error()), true);
      return;
    }
    int maxTokens = call.maxTokens() != null ? call.maxTokens() : defaultMaxTokens;
    GenerateRequest.Builder g =
        call.prompts().get(0).toBuilder()
            .setRequestId(requestId)
            .setTenantId(tenant)
            .setKeyId(b.path("_key").asString(""))
            .setPriority(PRIORITY)
            .setBatchId(id);
    g.getSamplingBuilder().setMaxTokens(maxTokens);
    if (call.userId() != null) {
      g.setUserId(call.userId());
    }
    InferenceClient.Attempts sameId =
        (failed, next) ->
            reactor.core.publisher.Mono.error(
                new GlmException(
                    new GlmError.Unavailable(
                        "worker failed before the line's first token", Duration.ofSeconds(1))));
    runReserved(
        r,
        tenant,
        id,
        cid,
        requestId,
        d,
        ReserveRequest.newBuilder()
            .setRequestId(requestId)
            .setTenantId(tenant)
            .setModel(call.model())
            .setPromptTokens(call.promptTokenBound())
            .setMaxTokens(maxTokens * call.n())
            .setBatch(true)
            .build(),
        "the account balance cannot cover this request (prompt + max_tokens at the batch price);"
            + " please top up",
        () -> {
          // a retry on another worker keeps the line's own id: fail this run, and run it again
          ChatHandler.Completed c =
              chat.completeLine(call, g.build(), d, affinity(id, cid), timeout, sameId).block();
          if (c == null) {
            throw new GlmException(new GlmError.Internal("the line ended without a result"));
          }
          return new Ran(
              usageCopy(c.finished(), requestId, tenant, b, call.model(), id),
              Json.MAPPER.readTree(d.completion(c.ctx(), c.choices(), c.finished().getUsage())));
        });
  }

  /**
   * An embeddings line: the /v1/embeddings handler's path (an Embed RPC to a worker serving the
   * model) under the line's own request id and the batch id (so the worker's usage event, and the
   * gateway's copy, are priced at the batch price), with a hold of the inputs' prompt-token bound
   * at the batch price, as a chat line has.
   */
  private void runEmbedLine(
      ObjectNode b, FolderBatchStore.Results r, BatchQueue.Item item, JsonNode line, Dialect d)
      throws java.io.IOException {
    String tenant = item.tenant();
    String id = item.batchId();
    String cid = item.customId();
    String requestId = BatchIds.requestId(id, cid);
    String url = line.get("url").asString();
    EmbedCall call;
    try {
      call = BatchLines.embedCall(line.get("body"), url);
    } catch (GlmException e) {
      r.append(cid, failedLine(id, cid, requestId, d, e.error()), true);
      return;
    }
    EmbedRequest.Builder req =
        call.embed().toBuilder()
            .setRequestId(requestId)
            .setTenantId(tenant)
            .setKeyId(b.path("_key").asString(""))
            .setBatchId(id);
    if (call.userId() != null) {
      req.setUserId(call.userId());
    }
    runReserved(
        r,
        tenant,
        id,
        cid,
        requestId,
        d,
        ReserveRequest.newBuilder()
            .setRequestId(requestId)
            .setTenantId(tenant)
            .setModel(call.model())
            .setPromptTokens(call.promptTokenBound())
            .setMaxTokens(0)
            .setBatch(true)
            .build(),
        "the account balance cannot cover this request (its inputs' tokens at the batch price);"
            + " please top up",
        () -> {
          EmbedResponse resp = inference.embed(req.build(), timeout).block();
          if (resp == null) {
            throw new GlmException(new GlmError.Internal("the line ended without a result"));
          }
          long now = System.currentTimeMillis();
          return new Ran(
              UsageEvent.newBuilder()
                  .setRequestId(requestId)
                  .setTenantId(tenant)
                  .setKeyId(b.path("_key").asString(""))
                  .setModel(call.model())
                  .setPromptTokens(resp.getPromptTokens())
                  .setFinishReason("stop")
                  .setStartTimeUnixMs(now)
                  .setEndTimeUnixMs(now)
                  .setBatchId(id)
                  .build(),
              EmbeddingsHandler.body(d.api(), requestId, call, resp));
        });
  }

  /** One run of a line's work: the usage event it earned and its response body. */
  private record Ran(UsageEvent usage, JsonNode body) {}

  /** Runs a line's work once; a retryable {@link GlmException} means run it again. */
  @FunctionalInterface
  private interface Attempt {
    Ran run();
  }

  /**
   * The loop every line kind shares: stop when the batch was cancelled or expired, hold {@code
   * reserve} at the batch price (a refusal is the line's insufficient-balance error), run the
   * attempt with backoff while its errors are retryable, make the usage event durable before the
   * output line, and release the hold on every failure.
   */
  private void runReserved(
      FolderBatchStore.Results r,
      String tenant,
      String id,
      String cid,
      String requestId,
      Dialect d,
      ReserveRequest reserve,
      String noBalance,
      Attempt attempt)
      throws java.io.IOException {
    boolean reserved = false;
    long backoff = 500;
    while (true) {
      String stop = stopReason(tenant, id);
      if (stop != null) {
        if (reserved) {
          billing.release(requestId, tenant).block();
        }
        r.append(
            cid,
            Batches.stoppedLine(
                id,
                cid,
                stop,
                stop.equals("batch_cancelled")
                    ? "the batch was cancelled before this request ran"
                    : "the batch's 24h completion window ended before this request ran"),
            true);
        return;
      }
      try {
        if (billing != null && !reserved) {
          var held = billing.reserve(reserve).block();
          if (held == null || !held.getGranted()) {
            r.append(
                cid,
                failedLine(id, cid, requestId, d, new GlmError.InsufficientBalance(noBalance)),
                true);
            return;
          }
          reserved = true;
        }
        Ran ran = attempt.run();
        // usage first: once it is durable, the output line and then the offset may follow
        while (usage != null && !usage.sendAndWait(ran.usage(), Duration.ofSeconds(30))) {
          if (stopReason(tenant, id) != null && !running.get()) {
            return;
          }
          sleep(2_000);
        }
        ObjectNode out = Json.object();
        out.put("id", Batches.lineId(id, cid));
        out.put("custom_id", cid);
        ObjectNode resp = out.putObject("response");
        resp.put("status_code", 200);
        resp.put("request_id", requestId);
        resp.set("body", ran.body());
        out.putNull("error");
        r.append(cid, Json.write(out), false);
        return;
      } catch (GlmException e) {
        if (!e.error().retryable() || !running.get()) {
          if (!running.get()) {
            return; // shutting down: the line runs again after the restart
          }
          if (reserved) {
            billing.release(requestId, tenant).block();
          }
          r.append(cid, failedLine(id, cid, requestId, d, e.error()), true);
          return;
        }
        log.info("batch {}: a line will run again: {}", id, e.error().message());
        sleep(backoff);
        backoff = Math.min(10_000, backoff * 2);
      }
    }
  }

  private static long affinity(String id, String cid) {
    return (id + "/" + cid).hashCode() * 0x9E3779B97F4A7C15L;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static UsageEvent usageCopy(
      Finished f, String requestId, String tenant, ObjectNode b, String model, String batchId) {
    long now = System.currentTimeMillis();
    var u = f.getUsage();
    return UsageEvent.newBuilder()
        .setRequestId(requestId)
        .setTenantId(tenant)
        .setKeyId(b.path("_key").asString(""))
        .setModel(model)
        .setPromptTokens(u.getPromptTokens())
        .setCachedTokens(u.getCachedTokens())
        .setCompletionTokens(u.getCompletionTokens())
        .setFinishReason(f.getFinishReason().name().toLowerCase(java.util.Locale.ROOT))
        .setWorkerId(f.getWorkerId())
        .setStartTimeUnixMs(now)
        .setEndTimeUnixMs(now)
        .setBatchId(batchId)
        .build();
  }

  private static String failedLine(
      String batchId, String cid, String requestId, Dialect d, GlmError e) {
    ObjectNode l = Json.object();
    l.put("id", Batches.lineId(batchId, cid));
    l.put("custom_id", cid);
    ObjectNode resp = l.putObject("response");
    resp.put("status_code", e.httpStatus());
    resp.put("request_id", requestId);
    resp.set("body", Json.MAPPER.readTree(d.errorBody(e)));
    l.putNull("error");
    return Json.write(l);
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    sweeper.interrupt();
    try {
      loop.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
