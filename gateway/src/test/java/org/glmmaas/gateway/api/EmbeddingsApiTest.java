package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * /v1/embeddings and /api/paas/v4/embeddings through real HTTP against the test gateway, whose
 * embedding model is served by a FakeWorker: shapes the SDKs parse, vectors in input order, usage,
 * and every kind of bad input a 400 that says what is wrong.
 */
class EmbeddingsApiTest {

  static final JsonMapper JSON = JsonMapper.builder().build();
  static final String M = TestGateway.EMBED_MODEL;

  static JsonNode ok(String path, String body) throws Exception {
    HttpResponse<String> r = TestGateway.get().post(path, TestGateway.KEY, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  static JsonNode bad(String path, String body) throws Exception {
    HttpResponse<String> r = TestGateway.get().post(path, TestGateway.KEY, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    return JSON.readTree(r.body()).get("error");
  }

  static float[] vector(JsonNode item) {
    JsonNode e = item.get("embedding");
    if (e.isString()) {
      ByteBuffer b =
          ByteBuffer.wrap(Base64.getDecoder().decode(e.stringValue()))
              .order(ByteOrder.LITTLE_ENDIAN);
      float[] v = new float[b.remaining() / 4];
      for (int i = 0; i < v.length; i++) {
        v[i] = b.getFloat();
      }
      return v;
    }
    float[] v = new float[e.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = e.get(i).floatValue();
    }
    return v;
  }

  static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * (double) x;
    }
    return Math.sqrt(s);
  }

  @Test
  void openAiAnswersOneUnitVectorPerInputInOrderWithUsage() throws Exception {
    TestGateway gw = TestGateway.get();
    JsonNode r =
        ok(
            "/v1/embeddings",
            "{\"model\":\"" + M + "\",\"input\":[\"first text\",\"second\",\"third one\"]}");
    assertThat(r.get("object").stringValue()).isEqualTo("list");
    assertThat(r.get("model").stringValue()).isEqualTo(M);
    assertThat(r.get("data")).hasSize(3);
    for (int i = 0; i < 3; i++) {
      JsonNode d = r.get("data").get(i);
      assertThat(d.get("object").stringValue()).isEqualTo("embedding");
      assertThat(d.get("index").intValue()).isEqualTo(i);
      float[] v = vector(d);
      assertThat(v).hasSize(TestGateway.EMBED_DIMS);
      assertThat(norm(v)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
    // in input order: the second input alone gives data[1]'s vector
    JsonNode alone = ok("/v1/embeddings", "{\"model\":\"" + M + "\",\"input\":\"second\"}");
    assertThat(vector(alone.get("data").get(0))).isEqualTo(vector(r.get("data").get(1)));
    // the fake counts 2 + ceil(bytes / 4) tokens per input: 5 + 4 + 5
    assertThat(r.get("usage").get("prompt_tokens").intValue()).isEqualTo(14);
    assertThat(r.get("usage").get("total_tokens").intValue()).isEqualTo(14);
    // the worker bills the caller's tenant and key under a fresh id
    var req = gw.embedWorker.lastEmbed;
    assertThat(req.getTenantId()).isEqualTo("tmain");
    assertThat(req.getKeyId()).isEqualTo("kmain");
    assertThat(req.getRequestId()).isNotEmpty();
  }

  @Test
  void base64IsTheFloatsAsLittleEndianFloat32() throws Exception {
    String body = "{\"model\":\"" + M + "\",\"input\":[\"a\",\"b\"]";
    JsonNode f = ok("/v1/embeddings", body + "}");
    JsonNode b = ok("/v1/embeddings", body + ",\"encoding_format\":\"base64\"}");
    assertThat(b.get("data").get(0).get("embedding").isString()).isTrue();
    for (int i = 0; i < 2; i++) {
      assertThat(vector(b.get("data").get(i))).isEqualTo(vector(f.get("data").get(i)));
    }
  }

  @Test
  void tokenIdInputsOnOpenAi() throws Exception {
    JsonNode r = ok("/v1/embeddings", "{\"model\":\"" + M + "\",\"input\":[[101,7,8,102],[5]]}");
    assertThat(r.get("data")).hasSize(2);
    assertThat(r.get("usage").get("prompt_tokens").intValue()).isEqualTo(5);
    JsonNode one = ok("/v1/embeddings", "{\"model\":\"" + M + "\",\"input\":[101,7,8,102]}");
    assertThat(one.get("data")).hasSize(1);
    assertThat(vector(one.get("data").get(0))).isEqualTo(vector(r.get("data").get(0)));
  }

  @Test
  void bigModelShape() throws Exception {
    JsonNode r =
        ok(
            "/api/paas/v4/embeddings",
            "{\"model\":\"" + M + "\",\"input\":\"你好\",\"request_id\":\"emb-req-1\"}");
    assertThat(r.get("id").stringValue()).isEqualTo("emb-req-1");
    assertThat(r.get("object").stringValue()).isEqualTo("list");
    assertThat(vector(r.get("data").get(0))).hasSize(TestGateway.EMBED_DIMS);
    assertThat(r.get("usage").get("completion_tokens").intValue()).isZero();
    assertThat(r.get("usage").get("prompt_tokens").intValue())
        .isEqualTo(r.get("usage").get("total_tokens").intValue())
        .isEqualTo(4);
  }

  @Test
  void badInputIsA400SayingWhat() throws Exception {
    for (String path : new String[] {"/v1/embeddings", "/api/paas/v4/embeddings"}) {
      assertThat(bad(path, "{\"model\":\"" + M + "\",\"input\":[]}").toString())
          .contains("empty array");
      assertThat(bad(path, "{\"model\":\"" + M + "\",\"input\":\"\"}").toString())
          .contains("empty string");
      assertThat(bad(path, "{\"model\":\"" + M + "\",\"input\":[\"a\",\"\"]}").toString())
          .contains("input[1]");
      assertThat(bad(path, "{\"model\":\"" + M + "\"}").toString()).contains("'input' is required");
      StringBuilder many = new StringBuilder("{\"model\":\"" + M + "\",\"input\":[");
      for (int i = 0; i < 10_000; i++) {
        many.append(i == 0 ? "" : ",").append("\"x\"");
      }
      assertThat(bad(path, many + "]}").toString()).contains("at most 2048 inputs, got 10000");
      // a chat model
      assertThat(bad(path, "{\"model\":\"" + TestGateway.MODEL + "\",\"input\":\"hi\"}").toString())
          .contains("is a chat model")
          .contains("embedding model");
      // dimensions on a model without Matryoshka support
      assertThat(
              bad(path, "{\"model\":\"" + M + "\",\"input\":\"hi\",\"dimensions\":32}").toString())
          .contains("dimensions")
          .contains("Matryoshka");
      // an input longer than the context (the fake: 2 + bytes / 4 tokens; 512 at most)
      String longText = "x".repeat(4000);
      assertThat(
              bad(path, "{\"model\":\"" + M + "\",\"input\":[\"ok\",\"" + longText + "\"]}")
                  .toString())
          .contains("input[1] has 1002 tokens");
      if (path.startsWith("/v1")) {
        assertThat(
                bad(path, "{\"model\":\"" + M + "\",\"input\":[\"ok\",\"" + longText + "\"]}")
                    .get("param")
                    .stringValue())
            .isEqualTo("input[1]");
      }
      // not UTF-8
      byte[] body =
          ("{\"model\":\"" + M + "\",\"input\":\"abcd\"}").getBytes(StandardCharsets.UTF_8);
      body[body.length - 4] = (byte) 0xff;
      HttpResponse<String> r =
          TestGateway.get()
              .http
              .send(
                  HttpRequest.newBuilder(URI.create(TestGateway.get().url(path)))
                      .timeout(Duration.ofSeconds(30))
                      .header("Content-Type", "application/json")
                      .header("Authorization", "Bearer " + TestGateway.KEY)
                      .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(r.body()).contains("not valid JSON");
    }
    // token ids are OpenAI's
    assertThat(bad("/api/paas/v4/embeddings", "{\"model\":\"" + M + "\",\"input\":[[1,2]]}"))
        .asString()
        .contains("input[0]");
    assertThat(bad("/v1/embeddings", "{\"model\":\"" + M + "\",\"input\":[[1,-2]]}").toString())
        .contains("input[0][1]");
    assertThat(
            bad(
                    "/v1/embeddings",
                    "{\"model\":\"" + M + "\",\"input\":\"a\",\"encoding_format\":\"hex\"}")
                .toString())
        .contains("encoding_format");
  }

  @Test
  void requestsPerMinuteLimitEmbeddingsAsChat() throws Exception {
    String body = "{\"model\":\"" + M + "\",\"input\":\"hi\"}";
    TestGateway gw = TestGateway.get();
    assertThat(gw.post("/v1/embeddings", TestGateway.EMBED_LIMITED_KEY, body).statusCode())
        .isEqualTo(200);
    assertThat(gw.post("/api/paas/v4/embeddings", TestGateway.EMBED_LIMITED_KEY, body).statusCode())
        .isEqualTo(200);
    HttpResponse<String> third = gw.post("/v1/embeddings", TestGateway.EMBED_LIMITED_KEY, body);
    assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
    assertThat(third.headers().firstValue("retry-after")).isPresent();
  }

  /**
   * Issue 22: an embeddings call reserves its inputs' prompt tokens, counted high (UTF-8 bytes + 2
   * per input; the fake bills 1 micro-unit per token), before any worker time; a balance that
   * cannot cover that is refused as chat's is (1113, not retryable), and a call the worker refuses
   * gives its hold back.
   */
  @Test
  void embeddingsReserveTheirInputsUpperBoundAndABalanceBelowItIsRefused() throws Exception {
    TestGateway gw = TestGateway.get();
    String tenant = "temb-reserve-" + java.util.UUID.randomUUID();
    String key =
        gw.auth.addKey(
            "kembres" + Math.abs(tenant.hashCode()),
            "s3cretembres",
            org.glmmaas.proto.auth.v1.Principal.newBuilder()
                .setTenantId(tenant)
                .setTenantStatus(org.glmmaas.proto.auth.v1.TenantStatus.ACTIVE)
                .setCacheTtlMs(60_000));
    gw.billing.balances.put(tenant, 20L);
    // 2 inputs, 5 + 11 bytes: at most 7 + 13 = 20 tokens, exactly the balance
    HttpResponse<String> ok =
        gw.post(
            "/v1/embeddings",
            key,
            "{\"model\":\"" + M + "\",\"input\":[\"hello\",\"hello world\"]}");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    String id = gw.embedWorker.lastEmbed.getRequestId();
    assertThat(gw.billing.reserveRequests.get(id))
        .as("a hold under the usage event's id")
        .isNotNull();
    assertThat(gw.billing.reserveRequests.get(id).getPromptTokens()).isEqualTo(20);
    assertThat(gw.billing.reserveRequests.get(id).getMaxTokens()).isZero();
    assertThat(gw.billing.reserveRequests.get(id).getModel()).isEqualTo(M);
    // one byte more than the balance covers: refused before any worker time, in both dialects
    int before = gw.embedWorker.embedCalls.get();
    String over = "{\"model\":\"" + M + "\",\"input\":[\"hello\",\"hello world!\"]}";
    HttpResponse<String> bm = gw.post("/api/paas/v4/embeddings", key, over);
    assertThat(bm.statusCode()).as(bm.body()).isEqualTo(429);
    assertThat(JSON.readTree(bm.body()).at("/error/code").asString()).isEqualTo("1113");
    assertThat(bm.headers().firstValue("x-should-retry")).hasValue("false");
    HttpResponse<String> oa = gw.post("/v1/embeddings", key, over);
    assertThat(JSON.readTree(oa.body()).at("/error/type").asString())
        .isEqualTo("insufficient_quota");
    assertThat(JSON.readTree(oa.body()).at("/error/message").asString()).contains("balance");
    assertThat(gw.embedWorker.embedCalls.get()).isEqualTo(before);
    // the worker refuses an input over its context: the hold goes back
    HttpResponse<String> tooLong =
        gw.post(
            "/v1/embeddings",
            TestGateway.KEY,
            "{\"model\":\"" + M + "\",\"input\":\"" + "y".repeat(4000) + "\"}");
    assertThat(tooLong.statusCode()).as(tooLong.body()).isEqualTo(400);
    String failed = gw.embedWorker.lastEmbed.getRequestId();
    assertThat(gw.billing.reserveRequests.get(failed).getPromptTokens()).isEqualTo(4002);
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!gw.billing.released.containsKey(failed) && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertThat(gw.billing.released.get(failed)).as("hold released").isTrue();
  }

  @Test
  void anUnknownModelIs404AndWrongKeyIs401() throws Exception {
    HttpResponse<String> r =
        TestGateway.get()
            .post("/v1/embeddings", TestGateway.KEY, "{\"model\":\"nope\",\"input\":\"hi\"}");
    assertThat(r.statusCode()).isEqualTo(404);
    r =
        TestGateway.get()
            .post("/v1/embeddings", "kx.bad", "{\"model\":\"" + M + "\",\"input\":\"hi\"}");
    assertThat(r.statusCode()).isEqualTo(401);
  }
}
