package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.gateway.api.ChatApiTest.dataLines;
import static org.glmmaas.gateway.api.ChatApiTest.json;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.support.TestGateway;
import org.glmmaas.proto.inference.v1.ToolChoice;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Tool calls, structured output, n choices, logprobs and thinking through the real gateway and the
 * fake worker, in both dialects' shapes, streamed and not.
 */
class ToolsApiTest {

  static TestGateway gw;

  static final String TOOLS =
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":"
          + "\"Weather of a city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
          + "{\"type\":\"string\"},\"days\":{\"type\":\"integer\",\"minimum\":1}},\"required\":"
          + "[\"city\",\"days\"]}}}]";

  @BeforeAll
  static void start() {
    gw = TestGateway.get();
  }

  static String body(String content, String extra) {
    return TestGateway.chat(content, extra);
  }

  @Test
  void requiredToolChoiceGivesAToolCallInBothDialects() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/v1/chat/completions",
            TestGateway.KEY,
            body("weather?", TOOLS + ",\"tool_choice\":\"required\""));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode c = json(r.body()).at("/choices/0");
    assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");
    JsonNode call = c.at("/message/tool_calls/0");
    assertThat(call.get("id").asString()).startsWith("call_");
    assertThat(call.get("type").asString()).isEqualTo("function");
    assertThat(call.at("/function/name").asString()).isEqualTo("get_weather");
    JsonNode args = json(call.at("/function/arguments").asString());
    assertThat(args.get("city").isString()).isTrue();
    assertThat(args.get("days").asInt()).isGreaterThanOrEqualTo(1);
    assertThat(c.at("/message/content").isNull()).isTrue();
    assertThat(gw.worker.lastRequest.getToolChoice().getMode()).isEqualTo(ToolChoice.Mode.REQUIRED);
    assertThat(gw.worker.lastRequest.getChat().getTools(0).getParametersJson())
        .contains("\"minimum\":1");

    HttpResponse<String> b =
        gw.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            body(
                "weather?",
                TOOLS
                    + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
                    + "\"get_weather\"}}"));
    assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
    JsonNode bc = json(b.body()).at("/choices/0");
    assertThat(bc.get("finish_reason").asString()).isEqualTo("tool_calls");
    assertThat(bc.at("/message/tool_calls/0/function/name").asString()).isEqualTo("get_weather");
    assertThat(bc.at("/message/tool_calls/0/index").asInt()).isZero();
  }

  @Test
  void openAiStreamsToolCallFragmentsThatAssembleToTheWholeCall() throws Exception {
    String req = body("weather?", TOOLS + ",\"tool_choice\":\"required\",\"seed\":5");
    JsonNode whole =
        json(gw.post("/v1/chat/completions", TestGateway.KEY, req).body())
            .at("/choices/0/message/tool_calls/0");
    List<String> data =
        dataLines(
            gw.post(
                    "/v1/chat/completions",
                    TestGateway.KEY,
                    req.substring(0, req.length() - 1) + ",\"stream\":true}")
                .body());
    assertThat(data).last().isEqualTo("[DONE]");
    StringBuilder args = new StringBuilder();
    String id = null;
    String name = null;
    String finish = null;
    int fragments = 0;
    for (String d : data.subList(0, data.size() - 1)) {
      JsonNode c = json(d).at("/choices/0");
      if (c.has("finish_reason") && !c.get("finish_reason").isNull()) {
        finish = c.get("finish_reason").asString();
      }
      JsonNode calls = c.at("/delta/tool_calls");
      if (calls.isMissingNode()) {
        continue;
      }
      JsonNode f = calls.get(0);
      assertThat(f.get("index").asInt()).isZero();
      if (fragments++ == 0) {
        id = f.get("id").asString();
        name = f.at("/function/name").asString();
        assertThat(f.get("type").asString()).isEqualTo("function");
      } else {
        assertThat(f.has("id")).isFalse();
        assertThat(f.at("/function").has("name")).isFalse();
      }
      args.append(f.at("/function/arguments").asString());
    }
    assertThat(fragments).isGreaterThan(1);
    assertThat(finish).isEqualTo("tool_calls");
    assertThat(name).isEqualTo(whole.at("/function/name").asString());
    assertThat(id).startsWith("call_");
    assertThat(args.toString()).isEqualTo(whole.at("/function/arguments").asString());
  }

  @Test
  void bigModelStreamsWholeToolCallsUnlessToolStreamIsOn() throws Exception {
    String req = body("weather?", TOOLS + ",\"tool_choice\":\"required\",\"stream\":true");
    List<String> whole =
        dataLines(gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, req).body());
    List<JsonNode> callChunks = new ArrayList<>();
    for (String d : whole) {
      if (!d.equals("[DONE]") && !json(d).at("/choices/0/delta/tool_calls").isMissingNode()) {
        callChunks.add(json(d).at("/choices/0/delta/tool_calls/0"));
      }
    }
    assertThat(callChunks).hasSize(1);
    assertThat(json(callChunks.get(0).at("/function/arguments").asString()).has("city")).isTrue();
    JsonNode last = json(whole.get(whole.size() - 2));
    assertThat(last.at("/choices/0/finish_reason").asString()).isEqualTo("tool_calls");
    assertThat(last.at("/usage/total_tokens").asInt()).isPositive();

    List<String> fragments =
        dataLines(
            gw.post(
                    "/api/paas/v4/chat/completions",
                    TestGateway.KEY,
                    req.substring(0, req.length() - 1) + ",\"tool_stream\":true}")
                .body());
    long n =
        fragments.stream()
            .filter(d -> !d.equals("[DONE]"))
            .filter(d -> !json(d).at("/choices/0/delta/tool_calls").isMissingNode())
            .count();
    assertThat(n).isGreaterThan(1);
  }

  @Test
  void parallelToolCallsFalseKeepsTheFirstCall() throws Exception {
    String both = body("[two-calls] weather?", TOOLS + ",\"tool_choice\":\"required\"");
    assertThat(
            json(gw.post("/v1/chat/completions", TestGateway.KEY, both).body())
                .at("/choices/0/message/tool_calls")
                .size())
        .isEqualTo(2);
    String one =
        body(
            "[two-calls] weather?",
            TOOLS + ",\"tool_choice\":\"required\",\"parallel_tool_calls\":false");
    assertThat(
            json(gw.post("/v1/chat/completions", TestGateway.KEY, one).body())
                .at("/choices/0/message/tool_calls")
                .size())
        .isEqualTo(1);
    // the worker is told too (it then offers only one call where the family allows several)
    assertThat(gw.worker.lastRequest.hasParallelToolCalls()).isTrue();
    assertThat(gw.worker.lastRequest.getParallelToolCalls()).isFalse();
  }

  @Test
  void aToolResultRoundTripsIntoTheWorkerRequest() throws Exception {
    String req =
        "{\"model\":\""
            + TestGateway.MODEL
            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},{\"role\":"
            + "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
            + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\","
            + "\\\"days\\\":1}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
            + "\"rain\"}],"
            + TOOLS
            + "}";
    for (String path : List.of("/v1/chat/completions", "/api/paas/v4/chat/completions")) {
      HttpResponse<String> r = gw.post(path, TestGateway.KEY, req);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(json(r.body()).at("/choices/0/message/content").asString())
          .isEqualTo("Hello, world!");
      var msgs = gw.worker.lastRequest.getChat().getMessagesList();
      assertThat(msgs.get(1).getToolCalls(0).getId()).isEqualTo("call_1");
      assertThat(msgs.get(1).getToolCalls(0).getArguments()).contains("Oslo");
      assertThat(msgs.get(2).getRole()).isEqualTo("tool");
      assertThat(msgs.get(2).getToolCallId()).isEqualTo("call_1");
      assertThat(msgs.get(2).getContent()).isEqualTo("rain");
      // 3 messages and a tool: what the tokenizer counts too
      assertThat(json(r.body()).at("/usage/prompt_tokens").asInt()).isEqualTo(12 + 3 + 5);
    }
  }

  @Test
  void jsonSchemaOutputIsTheSchemasJson() throws Exception {
    String rf =
        "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\","
            + "\"strict\":true,\"schema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
            + "\"string\"},\"age\":{\"type\":\"integer\",\"minimum\":0}},\"required\":[\"name\","
            + "\"age\"]}}}";
    for (String path : List.of("/v1/chat/completions", "/api/paas/v4/chat/completions")) {
      HttpResponse<String> r = gw.post(path, TestGateway.KEY, body("who?", rf));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode out = json(json(r.body()).at("/choices/0/message/content").asString());
      assertThat(out.get("name").isString()).isTrue();
      assertThat(out.get("age").isIntegralNumber()).isTrue();
    }
    // a schema the worker's grammar refuses: a 400 naming response_format, in each dialect
    String bad =
        "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
            + "{\"not\":{\"type\":\"string\"}}}}";
    HttpResponse<String> o = gw.post("/v1/chat/completions", TestGateway.KEY, body("x", bad));
    assertThat(o.statusCode()).isEqualTo(400);
    assertThat(json(o.body()).at("/error/param").asString()).isEqualTo("response_format");
    assertThat(json(o.body()).at("/error/message").asString()).contains("not");
    HttpResponse<String> b =
        gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, body("x", bad));
    assertThat(b.statusCode()).isEqualTo(400);
    assertThat(json(b.body()).at("/error/code").asString()).isEqualTo("1210");
    assertThat(json(b.body()).at("/error/message").asString()).startsWith("'response_format': ");
    String badTool =
        TOOLS.replace("\"required\":[\"city\",\"days\"]", "\"not\":{\"required\":[\"x\"]}");
    HttpResponse<String> t = gw.post("/v1/chat/completions", TestGateway.KEY, body("x", badTool));
    assertThat(t.statusCode()).isEqualTo(400);
    assertThat(json(t.body()).at("/error/param").asString())
        .isEqualTo("tools[0].function.parameters");
  }

  @Test
  void nChoicesEachWithTheirIndexAndThePromptCountedOnce() throws Exception {
    int before = gw.billing.reservations.size();
    HttpResponse<String> r =
        gw.post("/v1/chat/completions", TestGateway.KEY, body("hi", "\"n\":3,\"max_tokens\":50"));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode b = json(r.body());
    assertThat(b.get("choices").size()).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      assertThat(b.at("/choices/" + i + "/index").asInt()).isEqualTo(i);
      assertThat(b.at("/choices/" + i + "/message/content").asString()).isEqualTo("Hello, world!");
    }
    assertThat(b.at("/usage/prompt_tokens").asInt()).isEqualTo(12);
    assertThat(b.at("/usage/completion_tokens").asInt()).isEqualTo(12);
    assertThat(gw.worker.lastRequest.getN()).isEqualTo(3);
    assertThat(before).isGreaterThanOrEqualTo(0);

    List<String> s =
        dataLines(
            gw.post(
                    "/api/paas/v4/chat/completions",
                    TestGateway.KEY,
                    body("hi", "\"n\":2,\"stream\":true"))
                .body());
    StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
    for (String d : s.subList(0, s.size() - 2)) {
      JsonNode c = json(d).at("/choices/0");
      text[c.get("index").asInt()].append(c.at("/delta/content").asString());
    }
    assertThat(text[0]).hasToString("Hello, world!");
    assertThat(text[1]).hasToString("Hello, world!");
    JsonNode fin = json(s.get(s.size() - 2));
    assertThat(fin.get("choices").size()).isEqualTo(2);
    assertThat(fin.at("/usage/prompt_tokens").asInt()).isEqualTo(12);
  }

  @Test
  void nReservesTokensForEveryChoice() throws Exception {
    gw.billing.reservations.clear();
    HttpResponse<String> r =
        gw.post("/v1/chat/completions", TestGateway.KEY, body("hi", "\"n\":4,\"max_tokens\":100"));
    assertThat(r.statusCode()).isEqualTo(200);
    // the fake billing holds the prompt's bound (bytes + template allowance: 38 for "hi") + max
    // completion: 4 choices of up to 100 tokens
    assertThat(gw.billing.reservations.values())
        .singleElement()
        .satisfies(amount -> assertThat(amount).isBetween(400L, 450L));
  }

  @Test
  void logprobsWithTopAlternativesInBothShapes() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/v1/chat/completions",
            TestGateway.KEY,
            body("hi", "\"logprobs\":true,\"top_logprobs\":2"));
    JsonNode content = json(r.body()).at("/choices/0/logprobs/content");
    assertThat(content.size()).isEqualTo(4);
    JsonNode first = content.get(0);
    assertThat(first.get("token").asString()).isEqualTo("Hello");
    assertThat(first.get("logprob").asDouble()).isNegative();
    assertThat(first.get("bytes").size()).isEqualTo(5);
    assertThat(first.get("top_logprobs").size()).isEqualTo(2);
    assertThat(gw.worker.lastRequest.getSampling().getTopLogprobs()).isEqualTo(2);

    List<String> s =
        dataLines(
            gw.post(
                    "/v1/chat/completions",
                    TestGateway.KEY,
                    body("hi", "\"logprobs\":true,\"top_logprobs\":2,\"stream\":true"))
                .body());
    JsonNode chunk = json(s.get(0)).at("/choices/0/logprobs/content/0");
    assertThat(chunk.get("top_logprobs").size()).isEqualTo(2);
    // without logprobs: null
    assertThat(
            json(gw.post("/v1/chat/completions", TestGateway.KEY, body("hi", null)).body())
                .at("/choices/0/logprobs")
                .isNull())
        .isTrue();
  }

  @Test
  void thinkingGoesToReasoningContentAndIsCounted() throws Exception {
    String think = "\"thinking\":{\"type\":\"enabled\"}";
    HttpResponse<String> r =
        gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, body("hi", think));
    JsonNode b = json(r.body());
    assertThat(b.at("/choices/0/message/reasoning_content").asString()).isEqualTo("Let me think.");
    assertThat(b.at("/choices/0/message/content").asString()).isEqualTo("Hello, world!");
    assertThat(b.at("/usage/completion_tokens_details/reasoning_tokens").asInt()).isEqualTo(2);
    assertThat(gw.worker.lastRequest.getChat().getEnableThinking()).isTrue();

    List<String> s =
        dataLines(
            gw.post("/v1/chat/completions", TestGateway.KEY, body("hi", think + ",\"stream\":true"))
                .body());
    StringBuilder reasoning = new StringBuilder();
    for (String d : s.subList(0, s.size() - 2)) {
      JsonNode delta = json(d).at("/choices/0/delta");
      if (delta.has("reasoning_content")) {
        reasoning.append(delta.get("reasoning_content").asString());
      }
    }
    assertThat(reasoning).hasToString("Let me think.");
  }
}
