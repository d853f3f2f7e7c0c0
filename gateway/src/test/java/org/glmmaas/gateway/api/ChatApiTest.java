package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.gateway.support.TestGateway.chat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Both dialects end to end through a real gateway, a fake worker and fake auth/billing. */
class ChatApiTest {

  static TestGateway gw;
  static final JsonMapper JSON = JsonMapper.builder().build();

  @BeforeAll
  static void start() {
    gw = TestGateway.get();
  }

  static JsonNode json(String s) {
    return JSON.readTree(s);
  }

  static List<String> dataLines(String sse) {
    return sse.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
  }

  @Test
  void openAiNonStreamingHasTheOpenAiShape() throws Exception {
    HttpResponse<String> r = gw.post("/v1/chat/completions", TestGateway.KEY, chat("hi", null));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r.body());
    assertThat(b.get("object").asString()).isEqualTo("chat.completion");
    assertThat(b.get("id").asString()).startsWith("chatcmpl-");
    assertThat(b.get("model").asString()).isEqualTo(TestGateway.MODEL);
    assertThat(b.at("/choices/0/message/role").asString()).isEqualTo("assistant");
    assertThat(b.at("/choices/0/message/content").asString()).isEqualTo("Hello, world!");
    assertThat(b.at("/choices/0/finish_reason").asString()).isEqualTo("stop");
    assertThat(b.at("/usage/prompt_tokens").asInt()).isEqualTo(12);
    assertThat(b.at("/usage/completion_tokens").asInt()).isEqualTo(4);
    assertThat(b.at("/usage/total_tokens").asInt()).isEqualTo(16);
    assertThat(b.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(4);
  }

  @Test
  void bigModelNonStreamingUsesTheClientsRequestIdAndBigModelShape() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            chat("hi", "\"request_id\":\"my-req-42\",\"do_sample\":false,\"user_id\":\"u1\""));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r.body());
    assertThat(b.get("id").asString()).isEqualTo("my-req-42");
    assertThat(b.get("request_id").asString()).isEqualTo("my-req-42");
    assertThat(b.at("/choices/0/message/content").asString()).isEqualTo("Hello, world!");
    assertThat(b.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(4);
    var sent = gw.worker.lastRequest;
    assertThat(sent.getSampling().getDoSample()).isFalse();
    assertThat(sent.getUserId()).isEqualTo("u1");
    assertThat(sent.getTenantId()).isEqualTo("tmain");
    assertThat(sent.getRequestId()).isNotEqualTo("my-req-42"); // unique usage idempotency key
  }

  @Test
  void generatedIdsAreUnique() throws Exception {
    String a =
        json(gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, chat("x", null)).body())
            .get("id")
            .asString();
    String b =
        json(gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, chat("x", null)).body())
            .get("id")
            .asString();
    assertThat(a).isNotEqualTo(b).matches("\\d+");
  }

  @Test
  void bigModelStreamRepeatsTheRoleAndEndsWithUsageThenDone() throws Exception {
    HttpResponse<String> r =
        gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, chat("hi", "\"stream\":true"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
    List<String> data = dataLines(r.body());
    assertThat(data).hasSize(6).last().isEqualTo("[DONE]");
    StringBuilder text = new StringBuilder();
    for (String d : data.subList(0, 4)) {
      JsonNode c = json(d);
      assertThat(c.at("/choices/0/delta/role").asString()).isEqualTo("assistant");
      assertThat(c.at("/choices/0/finish_reason").isMissingNode()).isTrue();
      text.append(c.at("/choices/0/delta/content").asString());
    }
    assertThat(text).hasToString("Hello, world!");
    JsonNode last = json(data.get(4));
    assertThat(last.at("/choices/0/finish_reason").asString()).isEqualTo("stop");
    assertThat(last.at("/choices/0/delta/role").asString()).isEqualTo("assistant");
    assertThat(last.at("/usage/total_tokens").asInt()).isEqualTo(16);
    assertThat(last.at("/usage/prompt_tokens_details/cached_tokens").asInt()).isEqualTo(4);
    assertThat(r.body()).contains("\n\ndata: [DONE]\n\n");
  }

  @Test
  void openAiStreamSendsUsageOnlyWhenAskedForIt() throws Exception {
    List<String> plain =
        dataLines(
            gw.post("/v1/chat/completions", TestGateway.KEY, chat("hi", "\"stream\":true")).body());
    assertThat(plain).hasSize(6).last().isEqualTo("[DONE]");
    assertThat(plain).noneMatch(s -> s.contains("\"usage\""));
    JsonNode fin = json(plain.get(4));
    assertThat(fin.get("object").asString()).isEqualTo("chat.completion.chunk");
    assertThat(fin.at("/choices/0/finish_reason").asString()).isEqualTo("stop");
    assertThat(fin.at("/choices/0/delta").isEmpty()).isTrue();

    List<String> withUsage =
        dataLines(
            gw.post(
                    "/v1/chat/completions",
                    TestGateway.KEY,
                    chat("hi", "\"stream\":true,\"stream_options\":{\"include_usage\":true}"))
                .body());
    assertThat(withUsage).hasSize(7).last().isEqualTo("[DONE]");
    JsonNode u = json(withUsage.get(5));
    assertThat(u.get("choices").isEmpty()).isTrue();
    assertThat(u.at("/usage/completion_tokens").asInt()).isEqualTo(4);
    assertThat(json(withUsage.get(0)).get("usage").isNull()).isTrue();
  }

  @Test
  void lengthFinishIsReportedInBothDialects() throws Exception {
    assertThat(
            json(gw.post("/v1/chat/completions", TestGateway.KEY, chat("[length]", null)).body())
                .at("/choices/0/finish_reason")
                .asString())
        .isEqualTo("length");
    assertThat(
            json(gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, chat("[length]", null))
                    .body())
                .at("/choices/0/finish_reason")
                .asString())
        .isEqualTo("length");
  }

  @Test
  void anErrorAfterTheFirstTokenIsOneSseErrorEventThenClose() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            chat("[fail-after-first]", "\"stream\":true"));
    assertThat(r.statusCode()).isEqualTo(200);
    List<String> data = dataLines(r.body());
    assertThat(data).hasSize(2);
    assertThat(json(data.get(0)).at("/choices/0/delta/content").asString()).isEqualTo("Hello");
    assertThat(json(data.get(1)).at("/error/code").asString()).isEqualTo("500");
    assertThat(r.body()).doesNotContain("[DONE]");
  }

  @Test
  void workerErrorsBeforeTheFirstTokenAreHttpErrors() throws Exception {
    HttpResponse<String> r =
        gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, chat("[ctx]", "\"stream\":true"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r.body()).at("/error/code").asString()).isEqualTo("1261");
    HttpResponse<String> o = gw.post("/v1/chat/completions", TestGateway.KEY, chat("[ctx]", null));
    assertThat(o.statusCode()).isEqualTo(400);
    assertThat(json(o.body()).at("/error/code").asString()).isEqualTo("context_length_exceeded");
  }

  @Test
  void authErrorsUseEachDialectsCodes() throws Exception {
    HttpResponse<String> none = gw.post("/api/paas/v4/chat/completions", null, chat("hi", null));
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(json(none.body()).at("/error/code").asString()).isEqualTo("1001");
    HttpResponse<String> bad =
        gw.post("/api/paas/v4/chat/completions", "kmain.wrong", chat("hi", null));
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(json(bad.body()).at("/error/code").asString()).isEqualTo("1002");
    assertThat(bad.body()).doesNotContain("wrong");
    HttpResponse<String> oa = gw.post("/v1/chat/completions", "kmain.wrong", chat("hi", null));
    assertThat(oa.statusCode()).isEqualTo(401);
    JsonNode e = json(oa.body()).get("error");
    assertThat(e.get("type").asString()).isEqualTo("authentication_error");
    assertThat(e.get("code").asString()).isEqualTo("invalid_api_key");
    assertThat(e.has("param")).isTrue();
    HttpResponse<String> locked =
        gw.post("/api/paas/v4/chat/completions", TestGateway.SUSPENDED_KEY, chat("hi", null));
    assertThat(locked.statusCode()).isEqualTo(403);
    assertThat(json(locked.body()).at("/error/code").asString()).isEqualTo("1112");
    assertThat(locked.headers().firstValue("x-should-retry")).hasValue("false");
  }

  @Test
  void modelErrors() throws Exception {
    HttpResponse<String> unknown =
        gw.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            "{\"model\":\"no-such-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown.body()).at("/error/code").asString()).isEqualTo("1211");
    HttpResponse<String> notAllowed =
        gw.post("/api/paas/v4/chat/completions", TestGateway.RESTRICTED_KEY, chat("x", null));
    assertThat(notAllowed.statusCode()).isEqualTo(403);
    assertThat(json(notAllowed.body()).at("/error/code").asString()).isEqualTo("1220");
  }

  @Test
  void insufficientBalanceIsRefusedBeforeAnyWorkerTimeAndNotRetryable() throws Exception {
    int before = gw.worker.generateCalls.get();
    for (String key : List.of(TestGateway.BROKE_KEY, TestGateway.POOR_KEY)) {
      HttpResponse<String> r = gw.post("/api/paas/v4/chat/completions", key, chat("x", null));
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(json(r.body()).at("/error/code").asString()).isEqualTo("1113");
      assertThat(r.headers().firstValue("x-should-retry")).hasValue("false");
    }
    HttpResponse<String> oa =
        gw.post("/v1/chat/completions", TestGateway.BROKE_KEY, chat("x", null));
    assertThat(json(oa.body()).at("/error/type").asString()).isEqualTo("insufficient_quota");
    assertThat(gw.worker.generateCalls.get()).isEqualTo(before);
  }

  @Test
  void rateLimitGivesHeadersAnd1303WithRetryAfter() throws Exception {
    HttpResponse<String> last = null;
    for (int i = 0; i < 3; i++) {
      last = gw.post("/api/paas/v4/chat/completions", TestGateway.LIMITED_KEY, chat("x", null));
      assertThat(last.statusCode()).isEqualTo(200);
    }
    assertThat(last.headers().firstValue("x-ratelimit-limit-requests")).hasValue("3");
    assertThat(last.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
    assertThat(last.headers().firstValue("x-ratelimit-reset-requests")).isPresent();
    HttpResponse<String> denied =
        gw.post("/api/paas/v4/chat/completions", TestGateway.LIMITED_KEY, chat("x", null));
    assertThat(denied.statusCode()).isEqualTo(429);
    assertThat(json(denied.body()).at("/error/code").asString()).isEqualTo("1303");
    assertThat(denied.headers().firstValue("retry-after")).isPresent();
    assertThat(denied.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
  }

  @Test
  void concurrencyLimitGives1302AndClientDisconnectCancelsTheWorkerCall() throws Exception {
    int cancelsBefore = gw.worker.cancellations.get();
    HttpRequest slow =
        HttpRequest.newBuilder(URI.create(gw.url("/api/paas/v4/chat/completions")))
            .header("Authorization", "Bearer " + TestGateway.CONC_KEY)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(chat("[slow]", "\"stream\":true")))
            .build();
    HttpResponse<Stream<String>> open = gw.http.send(slow, HttpResponse.BodyHandlers.ofLines());
    var lines = open.body().iterator();
    assertThat(lines.next()).startsWith("data: ");
    HttpResponse<String> second =
        gw.post("/api/paas/v4/chat/completions", TestGateway.CONC_KEY, chat("x", null));
    assertThat(second.statusCode()).isEqualTo(429);
    assertThat(json(second.body()).at("/error/code").asString()).isEqualTo("1302");
    open.body().close(); // the client goes away mid-stream
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (gw.worker.cancellations.get() == cancelsBefore && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(gw.worker.cancellations.get()).isGreaterThan(cancelsBefore);
    // the lease was returned: the key can call again
    end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    int status = 0;
    while (System.nanoTime() < end && status != 200) {
      status =
          gw.post("/api/paas/v4/chat/completions", TestGateway.CONC_KEY, chat("x", null))
              .statusCode();
      Thread.sleep(20);
    }
    assertThat(status).isEqualTo(200);
  }

  @Test
  void modelsAreListedInBothPaths() throws Exception {
    for (String p : List.of("/v1/models", "/api/paas/v4/models")) {
      HttpResponse<String> r = gw.get(p, TestGateway.KEY);
      assertThat(r.statusCode()).isEqualTo(200);
      JsonNode b = json(r.body());
      assertThat(b.get("object").asString()).isEqualTo("list");
      assertThat(b.at("/data/0/id").asString()).isEqualTo(TestGateway.MODEL);
      assertThat(b.at("/data/0/object").asString()).isEqualTo("model");
    }
    assertThat(gw.get("/v1/models", null).statusCode()).isEqualTo(401);
  }

  @Test
  void asyncTaskRunsAndIsVisibleOnlyToItsTenant() throws Exception {
    HttpResponse<String> r =
        gw.post("/api/paas/v4/async/chat/completions", TestGateway.KEY, chat("hi", null));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode t = json(r.body());
    assertThat(t.get("task_status").asString()).isEqualTo("PROCESSING");
    assertThat(t.get("model").asString()).isEqualTo(TestGateway.MODEL);
    String id = t.get("id").asString();
    JsonNode res = null;
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      res = json(gw.get("/api/paas/v4/async-result/" + id, TestGateway.KEY).body());
      if (!"PROCESSING".equals(res.get("task_status").asString())) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(res.get("task_status").asString()).isEqualTo("SUCCESS");
    assertThat(res.at("/choices/0/message/content").asString()).isEqualTo("Hello, world!");
    assertThat(res.at("/usage/total_tokens").asInt()).isEqualTo(16);
    HttpResponse<String> other =
        gw.get("/api/paas/v4/async-result/" + id, TestGateway.OTHER_TENANT_KEY);
    assertThat(other.statusCode()).isEqualTo(404);
    assertThat(gw.get("/api/paas/v4/async-result/..%2F..%2Fetc", TestGateway.KEY).statusCode())
        .isBetween(400, 404);
  }

  @Test
  void failedAsyncTaskReportsFail() throws Exception {
    String id =
        json(gw.post(
                    "/api/paas/v4/async/chat/completions",
                    TestGateway.KEY,
                    chat("[fail-after-first]", null))
                .body())
            .get("id")
            .asString();
    JsonNode res = null;
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      res = json(gw.get("/api/paas/v4/async-result/" + id, TestGateway.KEY).body());
      if (!"PROCESSING".equals(res.get("task_status").asString())) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(res.get("task_status").asString()).isEqualTo("FAIL");
  }

  @Test
  void billingRoutesAnswerForTheCallersTenant() throws Exception {
    HttpResponse<String> bal = gw.get("/v1/billing/balance", TestGateway.KEY);
    assertThat(bal.statusCode()).isEqualTo(200);
    assertThat(json(bal.body()).get("balance_micros").asLong()).isEqualTo(123_456_789L);
    assertThat(json(bal.body()).get("currency").asString()).isEqualTo("CNY");
    HttpResponse<String> use =
        gw.get("/api/paas/v4/billing/usage?from=2026-11-01&to=2026-11-28", TestGateway.KEY);
    assertThat(use.statusCode()).isEqualTo(200);
    JsonNode row = json(use.body()).at("/rows/0");
    assertThat(row.get("key_id").asString()).isEqualTo("k-tmain");
    assertThat(row.get("cost_micros").asLong()).isEqualTo(48);
    HttpResponse<String> bad =
        gw.get("/v1/billing/usage?from=2026-13-01&to=2026-11-28", TestGateway.KEY);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad.body()).at("/error/param").asString()).isEqualTo("from");
  }

  @Test
  void unknownPathsAndMethodsGetTheDialectsError() throws Exception {
    HttpResponse<String> nf = gw.get("/v1/nope", TestGateway.KEY);
    assertThat(nf.statusCode()).isEqualTo(404);
    assertThat(json(nf.body()).at("/error/type").asString()).isEqualTo("invalid_request_error");
    HttpResponse<String> m = gw.get("/api/paas/v4/chat/completions", TestGateway.KEY);
    assertThat(m.statusCode()).isEqualTo(405);
    assertThat(json(m.body()).at("/error/code").asString()).isEqualTo("1210");
  }
}
