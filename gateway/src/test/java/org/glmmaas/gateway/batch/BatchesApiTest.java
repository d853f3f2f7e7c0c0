package org.glmmaas.gateway.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.glmmaas.gateway.GatewayApplication;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.gateway.support.TestGateway;
import org.glmmaas.platform.test.TestKafka;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import tools.jackson.databind.JsonNode;

/**
 * The Batches API of both dialects against a gateway with a real (in-process) Kafka broker: lines
 * run through glm.batch-requests.v1 on a fake worker, results land in output/error files, bad files
 * fail at validation with an error file naming each line.
 */
class BatchesApiTest {

  static final TestGateway G = TestGateway.get();
  static final String BOUNDARY = "----glmBatchTestBoundary";
  static EmbeddedKafkaKraftBroker kafka;
  static FakeWorker worker;
  static ConfigurableApplicationContext gw;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    kafka = new EmbeddedKafkaKraftBroker(1, 3);
    kafka.afterPropertiesSet();
    worker = new FakeWorker("fake-batch-worker", TestGateway.MODEL);
    Path data = Path.of("target", "test-data", "batch-" + UUID.randomUUID());
    gw =
        new SpringApplicationBuilder(GatewayApplication.class)
            .initializers(org.glmmaas.gateway.support.TestGateway.ownNettyLoops())
            .run(
                "--server.port=0",
                "--glm.gateway.workers=localhost:"
                    + worker.port()
                    + ",localhost:"
                    + G.embedWorker.port(),
                "--glm.gateway.auth.address=" + G.auth.address(),
                "--glm.gateway.billing.address=" + G.billing.address(),
                "--glm.gateway.data-dir=" + data.toAbsolutePath(),
                "--glm.gateway.batch.per-worker-in-flight=1",
                "--glm.gateway.batch.tenant-token-cap=400000",
                "--glm.gateway.batch.sweep-interval=1s",
                "--spring.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--logging.structured.format.console=",
                "--spring.main.banner-mode=off");
    port = Integer.parseInt(gw.getEnvironment().getProperty("local.server.port"));
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < end
        && post("/v1/chat/completions", TestGateway.KEY, TestGateway.chat("hi", null)).statusCode()
            != 200) {
      Thread.sleep(100);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
    if (worker != null) {
      worker.close();
    }
    if (kafka != null) {
      kafka.destroy();
      // the embedded broker publishes itself in spring.kafka.bootstrap-servers and leaves it:
      // a gateway a later test starts in this JVM must not inherit a dead Kafka
      System.clearProperty("spring.kafka.bootstrap-servers");
    }
  }

  static HttpResponse<String> send(HttpRequest.Builder b, String key) throws Exception {
    return G.http.send(
        b.timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + key).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  static HttpResponse<String> post(String path, String key, String body) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)),
        key);
  }

  static HttpResponse<String> get(String path, String key) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET(), key);
  }

  static JsonNode json(HttpResponse<String> r) {
    return Json.MAPPER.readTree(r.body());
  }

  static String upload(String base, String key, String content) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(
        ("--"
                + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--"
                + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    b.writeBytes(content.getBytes(StandardCharsets.UTF_8));
    b.writeBytes(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri(base + "/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())),
            key);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json(r).get("id").asString();
  }

  static String line(String customId, String url, String model, String extra) {
    return "{\"custom_id\":\""
        + customId
        + "\",\"method\":\"POST\",\"url\":\""
        + url
        + "\",\"body\":{\"model\":\""
        + model
        + "\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"q "
        + customId
        + "\"}]"
        + (extra == null ? "" : "," + extra)
        + "}}\n";
  }

  static String create(String base, String key, String fileId) {
    return "{\"input_file_id\":\""
        + fileId
        + "\",\"endpoint\":\""
        + (base.equals("/v1") ? "/v1/chat/completions" : "/v4/chat/completions")
        + "\",\"completion_window\":\"24h\",\"metadata\":{\"job\":\"eval\"}}";
  }

  static JsonNode await(String base, String key, String id, Set<String> states) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    JsonNode b = null;
    while (System.nanoTime() < end) {
      b = json(get(base + "/batches/" + id, key));
      if (states.contains(b.get("status").asString())) {
        return b;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("batch " + id + " never reached " + states + ": " + b);
  }

  static List<JsonNode> lines(String base, String key, String fileId) throws Exception {
    HttpResponse<String> r = get(base + "/files/" + fileId + "/content", key);
    assertThat(r.statusCode()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    for (String l : r.body().split("\n")) {
      if (!l.isBlank()) {
        out.add(Json.MAPPER.readTree(l));
      }
    }
    return out;
  }

  @Test
  void fiftyLinesRunToCompletedOnBothDialectsWithOneOutputLinePerCustomId() throws Exception {
    for (String base : List.of("/v1", "/api/paas/v4")) {
      String url = base.equals("/v1") ? "/v1/chat/completions" : "/v4/chat/completions";
      StringBuilder in = new StringBuilder();
      for (int i = 0; i < 50; i++) {
        in.append(line("req-" + i, url, TestGateway.MODEL, null));
      }
      String file = upload(base, TestGateway.KEY, in.toString());
      HttpResponse<String> c =
          post(base + "/batches", TestGateway.KEY, create(base, TestGateway.KEY, file));
      assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
      JsonNode b = json(c);
      String id = b.get("id").asString();
      assertThat(id).startsWith("batch_");
      assertThat(b.get("object").asString()).isEqualTo("batch");
      assertThat(b.get("status").asString()).isIn("validating", "in_progress");
      assertThat(b.get("request_counts").get("total").asInt()).isEqualTo(50);
      assertThat(b.get("metadata").get("job").asString()).isEqualTo("eval");
      assertThat(b.has("_tenant")).isFalse();

      JsonNode done = await(base, TestGateway.KEY, id, Set.of("completed", "failed"));
      assertThat(done.get("status").asString()).as(done.toString()).isEqualTo("completed");
      assertThat(done.get("request_counts").get("completed").asInt()).isEqualTo(50);
      assertThat(done.get("request_counts").get("failed").asInt()).isZero();
      for (String at : List.of("in_progress_at", "finalizing_at", "completed_at")) {
        assertThat(done.get(at).asLong()).as(at).isPositive();
      }
      assertThat(done.get("error_file_id").isNull()).isTrue();
      List<JsonNode> out = lines(base, TestGateway.KEY, done.get("output_file_id").asString());
      assertThat(out).hasSize(50);
      Set<String> ids = new HashSet<>();
      for (JsonNode o : out) {
        ids.add(o.get("custom_id").asString());
        assertThat(o.get("response").get("status_code").asInt()).isEqualTo(200);
        JsonNode body = o.get("response").get("body");
        assertThat(body.get("choices").get(0).get("message").get("content").asString())
            .isEqualTo(String.join("", FakeWorker.TOKENS));
        assertThat(body.get("usage").get("completion_tokens").asInt()).isPositive();
        assertThat(o.get("response").get("request_id").asString())
            .isEqualTo(BatchIds.requestId(id, o.get("custom_id").asString()));
      }
      assertThat(ids).hasSize(50).contains("req-0", "req-49");
      // the worker got the line at batch priority, under the line's own id, with the batch id
      var g = worker.lastRequest;
      assertThat(g.getPriority()).isEqualTo(BatchRunner.PRIORITY);
      assertThat(g.getBatchId()).isEqualTo(id);
      assertThat(g.getRequestId()).startsWith(id + "-");
      // each line was reserved at the batch price, under its own id
      var held = G.billing.reserveRequests.get(BatchIds.requestId(id, "req-7"));
      assertThat(held).isNotNull();
      assertThat(held.getBatch()).isTrue();
      // the gateway's usage copies carry the batch id, one per line
      List<ConsumerRecord<String, byte[]>> usage =
          TestKafka.readUntil(
              kafka.getBrokersAsString(),
              "glm.usage.v1",
              seen -> seen.stream().filter(r -> parse(r).getBatchId().equals(id)).count() >= 50);
      assertThat(
              usage.stream()
                  .map(BatchesApiTest::parse)
                  .filter(e -> e.getBatchId().equals(id))
                  .map(UsageEvent::getRequestId)
                  .distinct())
          .hasSize(50);
      // listed, newest first
      JsonNode list = json(get(base + "/batches?limit=1", TestGateway.KEY));
      assertThat(list.get("data").get(0).get("id").asString()).isEqualTo(id);
      assertThat(list.get("has_more").asBoolean()).isIn(true, false);
    }
  }

  static String embedLine(String customId, String url, String input) {
    return "{\"custom_id\":\""
        + customId
        + "\",\"method\":\"POST\",\"url\":\""
        + url
        + "\",\"body\":{\"model\":\""
        + TestGateway.EMBED_MODEL
        + "\",\"input\":"
        + input
        + "}}\n";
  }

  @Test
  void embeddingsBatchesRunEachLineOnTheEmbeddingWorkerAtTheBatchPrice() throws Exception {
    for (String base : List.of("/v1", "/api/paas/v4")) {
      String url = base.equals("/v1") ? "/v1/embeddings" : "/v4/embeddings";
      String in =
          embedLine("e-0", url, "\"the first text\"")
              + embedLine("e-1", url, "[\"two\",\"inputs here\"]")
              + embedLine("e-2", url, "\"a third, longer text to embed\"");
      String file = upload(base, TestGateway.KEY, in);
      int calls = G.embedWorker.embedCalls.get();
      HttpResponse<String> c =
          post(
              base + "/batches",
              TestGateway.KEY,
              create(base, TestGateway.KEY, file).replace("/chat/completions", "/embeddings"));
      assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
      String id = json(c).get("id").asString();
      assertThat(json(c).get("endpoint").asString()).endsWith("/embeddings");
      JsonNode done = await(base, TestGateway.KEY, id, Set.of("completed", "failed"));
      assertThat(done.get("status").asString()).as(done.toString()).isEqualTo("completed");
      assertThat(done.get("request_counts").get("completed").asInt()).isEqualTo(3);
      assertThat(done.get("request_counts").get("failed").asInt()).isZero();
      List<JsonNode> out = lines(base, TestGateway.KEY, done.get("output_file_id").asString());
      assertThat(out).hasSize(3);
      Set<String> ids = new HashSet<>();
      for (JsonNode o : out) {
        String cid = o.get("custom_id").asString();
        ids.add(cid);
        assertThat(o.get("response").get("status_code").asInt()).isEqualTo(200);
        assertThat(o.get("response").get("request_id").asString())
            .isEqualTo(BatchIds.requestId(id, cid));
        JsonNode body = o.get("response").get("body");
        assertThat(body.get("object").asString()).isEqualTo("list");
        assertThat(body.get("model").asString()).isEqualTo(TestGateway.EMBED_MODEL);
        assertThat(body.get("data")).hasSize(cid.equals("e-1") ? 2 : 1);
        for (int i = 0; i < body.get("data").size(); i++) {
          JsonNode item = body.get("data").get(i);
          assertThat(item.get("object").asString()).isEqualTo("embedding");
          assertThat(item.get("index").asInt()).isEqualTo(i);
          assertThat(item.get("embedding")).hasSize(TestGateway.EMBED_DIMS);
        }
        assertThat(body.get("usage").get("prompt_tokens").asInt()).isPositive();
        assertThat(body.get("usage").get("total_tokens").asInt())
            .isEqualTo(body.get("usage").get("prompt_tokens").asInt());
        // each line held at the batch price under its own id
        var held = G.billing.reserveRequests.get(BatchIds.requestId(id, cid));
        assertThat(held).as(cid).isNotNull();
        assertThat(held.getBatch()).isTrue();
        assertThat(held.getMaxTokens()).isZero();
      }
      assertThat(ids).containsExactlyInAnyOrder("e-0", "e-1", "e-2");
      // the Embed RPC carried the line's id and the batch id (so the worker's usage event does)
      assertThat(G.embedWorker.embedCalls.get() - calls).isEqualTo(3);
      var e = G.embedWorker.lastEmbed;
      assertThat(e.getBatchId()).isEqualTo(id);
      assertThat(e.getRequestId()).startsWith(id + "-");
      assertThat(e.getTenantId()).isNotEmpty();
      // the gateway's usage copies carry the batch id, one per line
      List<ConsumerRecord<String, byte[]>> usage =
          TestKafka.readUntil(
              kafka.getBrokersAsString(),
              "glm.usage.v1",
              seen -> seen.stream().filter(r -> parse(r).getBatchId().equals(id)).count() >= 3);
      assertThat(
              usage.stream()
                  .map(BatchesApiTest::parse)
                  .filter(u -> u.getBatchId().equals(id))
                  .filter(u -> u.getModel().equals(TestGateway.EMBED_MODEL))
                  .filter(u -> u.getPromptTokens() > 0)
                  .map(UsageEvent::getRequestId)
                  .distinct())
          .hasSize(3);
    }
  }

  @Test
  void aChatLineInAnEmbeddingsBatchIsALineErrorAndNothingRuns() throws Exception {
    String in =
        embedLine("ok", "/v1/embeddings", "\"fine\"")
            + line("chat", "/v1/chat/completions", TestGateway.MODEL, null)
            + embedLine("chat-model", "/v1/embeddings", "\"x\"")
                .replace(TestGateway.EMBED_MODEL, TestGateway.MODEL)
            + embedLine("no-input", "/v1/embeddings", "[]");
    String file = upload("/v1", TestGateway.KEY, in);
    int calls = G.embedWorker.embedCalls.get();
    HttpResponse<String> c =
        post(
            "/v1/batches",
            TestGateway.KEY,
            create("/v1", TestGateway.KEY, file).replace("/chat/completions", "/embeddings"));
    assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
    JsonNode b = json(c);
    assertThat(b.get("status").asString()).isEqualTo("failed");
    JsonNode errs = b.get("errors").get("data");
    List<String> got = new ArrayList<>();
    for (JsonNode e : errs) {
      got.add(e.get("line").asInt() + ":" + e.get("code").asString());
    }
    assertThat(got).containsExactly("2:invalid_url", "3:mismatched_model", "4:invalid_request");
    assertThat(errs.get(0).get("message").asString()).contains("/v1/embeddings");
    assertThat(errs.get(2).get("param").asString()).isEqualTo("body.input");
    Thread.sleep(300);
    assertThat(G.embedWorker.embedCalls.get()).isEqualTo(calls);
    // an embeddings line naming a chat model is refused as /v1/embeddings refuses it
    String chatModel =
        upload(
            "/v1",
            TestGateway.KEY,
            embedLine("cm", "/v1/embeddings", "\"x\"")
                .replace(TestGateway.EMBED_MODEL, TestGateway.MODEL));
    JsonNode r =
        json(
            post(
                "/v1/batches",
                TestGateway.KEY,
                create("/v1", TestGateway.KEY, chatModel)
                    .replace("/chat/completions", "/embeddings")));
    assertThat(r.get("status").asString()).isEqualTo("failed");
    assertThat(r.get("errors").get("data").get(0).get("message").asString())
        .contains("embedding model");
  }

  static UsageEvent parse(ConsumerRecord<String, byte[]> r) {
    try {
      return UsageEvent.parseFrom(r.value());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void badLinesFailValidationWithAnErrorFileNamingEachLineAndNothingRuns() throws Exception {
    String url = "/v1/chat/completions";
    String in =
        line("a", url, TestGateway.MODEL, null)
            + "{\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{}}\n"
            + line("a", url, TestGateway.MODEL, null)
            + line("c", "/v1/images/generations", TestGateway.MODEL, null)
            + line("d", url, "glm-4-other", null)
            + line("e", url, TestGateway.MODEL, "\"temperature\":7");
    String file = upload("/v1", TestGateway.KEY, in);
    int calls = worker.generateCalls.get();
    HttpResponse<String> c =
        post("/v1/batches", TestGateway.KEY, create("/v1", TestGateway.KEY, file));
    assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
    JsonNode b = json(c);
    assertThat(b.get("status").asString()).isEqualTo("failed");
    assertThat(b.get("failed_at").asLong()).isPositive();
    JsonNode errs = b.get("errors").get("data");
    List<String> got = new ArrayList<>();
    for (JsonNode e : errs) {
      got.add(e.get("line").asInt() + ":" + e.get("code").asString());
    }
    assertThat(got)
        .containsExactly(
            "2:missing_required_parameter",
            "3:duplicate_custom_id",
            "4:invalid_url",
            "5:mismatched_model",
            "6:invalid_request");
    assertThat(errs.get(4).get("message").asString()).contains("line 6").contains("temperature");
    List<JsonNode> errorLines = lines("/v1", TestGateway.KEY, b.get("error_file_id").asString());
    assertThat(errorLines).hasSize(5);
    assertThat(errorLines.get(1).get("custom_id").asString()).isEqualTo("a");
    assertThat(errorLines.get(1).get("error").get("line").asInt()).isEqualTo(3);
    Thread.sleep(500);
    assertThat(worker.generateCalls.get()).isEqualTo(calls);
    assertThat(G.billing.reserveRequests.keySet())
        .noneMatch(k -> k.startsWith(b.get("id").asString()));

    // a model the key may not use
    String restricted =
        upload("/v1", TestGateway.RESTRICTED_KEY, line("x", url, TestGateway.MODEL, null));
    JsonNode r =
        json(
            post(
                "/v1/batches",
                TestGateway.RESTRICTED_KEY,
                create("/v1", TestGateway.RESTRICTED_KEY, restricted)));
    assertThat(r.get("status").asString()).isEqualTo("failed");
    assertThat(r.get("errors").get("data").get(0).get("code").asString())
        .isEqualTo("model_not_allowed");

    // invalid JSON never gets past the upload: a 400 naming the line
    HttpResponse<String> bad =
        send(
            HttpRequest.newBuilder(uri("/v1/files"))
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "--"
                            + BOUNDARY
                            + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--"
                            + BOUNDARY
                            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jsonl\"\r\n\r\n"
                            + line("a", url, TestGateway.MODEL, null)
                            + "{not json\n\r\n--"
                            + BOUNDARY
                            + "--\r\n")),
            TestGateway.KEY);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("line 2");
  }

  @Test
  void createChecksItsFieldsAndTenantsSeeOnlyTheirOwnBatches() throws Exception {
    String file =
        upload("/v1", TestGateway.KEY, line("a", "/v1/chat/completions", TestGateway.MODEL, null));
    HttpResponse<String> w =
        post(
            "/v1/batches",
            TestGateway.KEY,
            create("/v1", TestGateway.KEY, file).replace("24h", "48h"));
    assertThat(w.statusCode()).isEqualTo(400);
    assertThat(json(w).get("error").get("param").asString()).isEqualTo("completion_window");
    HttpResponse<String> u =
        post(
            "/v1/batches",
            TestGateway.KEY,
            create("/v1", TestGateway.KEY, file)
                .replace("{\"input", "{\"output_expires_after\":1,\"input"));
    assertThat(u.statusCode()).isEqualTo(400);
    assertThat(json(u).get("error").get("param").asString()).isEqualTo("output_expires_after");
    HttpResponse<String> e =
        post(
            "/v1/batches",
            TestGateway.KEY,
            create("/v1", TestGateway.KEY, file)
                .replace("/v1/chat/completions", "/v1/moderations"));
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(json(e).get("error").get("param").asString()).isEqualTo("endpoint");
    HttpResponse<String> nf =
        post("/v1/batches", TestGateway.KEY, create("/v1", TestGateway.KEY, "file-nope"));
    assertThat(nf.statusCode()).isEqualTo(400);
    assertThat(json(nf).get("error").get("param").asString()).isEqualTo("input_file_id");
    // another tenant's file is not found either
    HttpResponse<String> other =
        post(
            "/v1/batches",
            TestGateway.OTHER_TENANT_KEY,
            create("/v1", TestGateway.OTHER_TENANT_KEY, file));
    assertThat(other.statusCode()).isEqualTo(400);

    String id =
        json(post("/v1/batches", TestGateway.KEY, create("/v1", TestGateway.KEY, file)))
            .get("id")
            .asString();
    assertThat(get("/v1/batches/" + id, TestGateway.OTHER_TENANT_KEY).statusCode()).isEqualTo(404);
    assertThat(post("/v1/batches/" + id + "/cancel", TestGateway.OTHER_TENANT_KEY, "").statusCode())
        .isEqualTo(404);
    assertThat(get("/api/paas/v4/batches/" + id, TestGateway.OTHER_TENANT_KEY).statusCode())
        .isEqualTo(404);
    assertThat(json(get("/v1/batches", TestGateway.OTHER_TENANT_KEY)).get("data").toString())
        .doesNotContain(id);
    assertThat(get("/v1/batches/" + id, TestGateway.KEY).statusCode()).isEqualTo(200);
    assertThat(get("/v1/batches?limit=0", TestGateway.KEY).statusCode()).isEqualTo(400);
    assertThat(get("/v1/batches?order=asc", TestGateway.KEY).statusCode()).isEqualTo(400);
  }

  @Test
  void enqueuedTokensPastTheTenantCapAre429() throws Exception {
    // 3 lines of max_tokens 150000 > the test gateway's 400000-token cap
    StringBuilder in = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      in.append(
          line("big-" + i, "/v1/chat/completions", TestGateway.MODEL, null)
              .replace("\"max_tokens\":8", "\"max_tokens\":130000")
              .replace("q big", "q big"));
    }
    in.append(
        line("big-3", "/v1/chat/completions", TestGateway.MODEL, null)
            .replace("\"max_tokens\":8", "\"max_tokens\":130000"));
    String file = upload("/v1", TestGateway.FUZZ_KEY, in.toString());
    HttpResponse<String> r =
        post("/v1/batches", TestGateway.FUZZ_KEY, create("/v1", TestGateway.FUZZ_KEY, file));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
    assertThat(json(r).get("error").get("message").asString())
        .contains("enqueued")
        .contains("400000");
  }

  @Test
  void cancelMidRunStopsTheRestAndKeepsWhatRan() throws Exception {
    worker.firstTokenDelayMs = 150;
    try {
      StringBuilder in = new StringBuilder();
      for (int i = 0; i < 40; i++) {
        in.append(line("c-" + i, "/v4/chat/completions", TestGateway.MODEL, null));
      }
      String file = upload("/api/paas/v4", TestGateway.KEY, in.toString());
      String id =
          json(post(
                  "/api/paas/v4/batches",
                  TestGateway.KEY,
                  create("/api/paas/v4", TestGateway.KEY, file)))
              .get("id")
              .asString();
      long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < end
          && json(get("/api/paas/v4/batches/" + id, TestGateway.KEY))
                  .get("request_counts")
                  .get("completed")
                  .asInt()
              < 2) {
        Thread.sleep(50);
      }
      HttpResponse<String> c = post("/api/paas/v4/batches/" + id + "/cancel", TestGateway.KEY, "");
      assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
      assertThat(json(c).get("status").asString()).isIn("cancelling", "cancelled");
      JsonNode b = await("/api/paas/v4", TestGateway.KEY, id, Set.of("cancelled"));
      int completed = b.get("request_counts").get("completed").asInt();
      int failed = b.get("request_counts").get("failed").asInt();
      assertThat(completed).isBetween(2, 30);
      assertThat(completed + failed).isEqualTo(40);
      assertThat(b.get("cancelled_at").asLong()).isPositive();
      List<JsonNode> errs =
          lines("/api/paas/v4", TestGateway.KEY, b.get("error_file_id").asString());
      assertThat(errs).hasSize(failed);
      assertThat(errs)
          .allMatch(e -> e.get("error").get("code").asString().equals("batch_cancelled"));
      // a second cancel of a cancelled batch answers it as it is
      assertThat(
              json(post("/api/paas/v4/batches/" + id + "/cancel", TestGateway.KEY, ""))
                  .get("status")
                  .asString())
          .isEqualTo("cancelled");
    } finally {
      worker.firstTokenDelayMs = 0;
    }
  }

  /**
   * The official openai npm client, unchanged: files.create of 50 lines, batches.create, retrieve
   * until completed, the output file's 50 chat completions, list, cancel of a finished batch
   * (src/test/node/batches-conformance.mjs, also run against ./glm up by run-against-glm-up.sh).
   */
  @Test
  void officialOpenAiClientRunsABatch() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        run(Path.of("."), 30, "node", "--version") == 0, "node is absent");
    Path dir = Path.of("target", "sdk-conformance");
    Files.createDirectories(dir);
    for (String f : new String[] {"package.json", "package-lock.json", "batches-conformance.mjs"}) {
      Files.copy(
          Path.of("src", "test", "node", f),
          dir.resolve(f),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("openai"))) {
      int rc = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline");
      org.junit.jupiter.api.Assumptions.assumeTrue(rc == 0, "npm ci failed (no registry?)");
    }
    ProcessBuilder pb =
        new ProcessBuilder("node", "batches-conformance.mjs")
            .directory(dir.toFile())
            .redirectErrorStream(true);
    pb.environment().put("GATEWAY", "http://127.0.0.1:" + port);
    pb.environment().put("KEY", TestGateway.KEY);
    pb.environment().put("MODEL", TestGateway.MODEL);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(200, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(out).doesNotContain("FAIL");
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out.lines().filter(l -> l.startsWith("ok ")).count()).as(out).isEqualTo(4);
  }

  static int run(Path cwd, int timeoutS, String... cmd) {
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(cwd.toFile())
              .redirectErrorStream(true)
              .redirectOutput(new java.io.File("target/batch-sdk-" + cmd[0] + ".log"))
              .start();
      if (!p.waitFor(timeoutS, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (Exception e) {
      return -1;
    }
  }
}
