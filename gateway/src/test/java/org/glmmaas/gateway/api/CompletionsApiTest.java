package org.glmmaas.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.glmmaas.gateway.api.ChatApiTest.dataLines;
import static org.glmmaas.gateway.api.ChatApiTest.json;

import java.net.http.HttpResponse;
import java.util.List;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** /v1/completions and the tokenizer endpoints through the real gateway and the fake worker. */
class CompletionsApiTest {

  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.get();
  }

  static String completion(String prompt, String extra) {
    return "{\"model\":\""
        + TestGateway.MODEL
        + "\",\"prompt\":"
        + prompt
        + (extra == null ? "" : "," + extra)
        + "}";
  }

  @Test
  void aTextPromptGivesATextCompletion() throws Exception {
    HttpResponse<String> r =
        gw.post("/v1/completions", TestGateway.KEY, completion("\"def f():\"", null));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode b = json(r.body());
    assertThat(b.get("object").asString()).isEqualTo("text_completion");
    assertThat(b.get("id").asString()).startsWith("cmpl-");
    assertThat(b.at("/choices/0/text").asString()).isEqualTo("Hello, world!");
    assertThat(b.at("/choices/0/index").asInt()).isZero();
    assertThat(b.at("/choices/0/finish_reason").asString()).isEqualTo("stop");
    assertThat(b.at("/choices/0/logprobs").isNull()).isTrue();
    assertThat(b.at("/usage/prompt_tokens").asInt()).isEqualTo(1 + "def f():".length() / 4);
    var sent = gw.worker.lastRequest;
    assertThat(sent.getText()).isEqualTo("def f():");
    assertThat(sent.getSampling().getMaxTokens()).isEqualTo(16); // OpenAI's default
  }

  @Test
  void suffixMakesItFillInTheMiddle() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/v1/completions",
            TestGateway.KEY,
            completion(
                "\"def add(a, b):\\n    return \"", "\"suffix\":\"\\n\\nprint(add(1, 2))\""));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r.body()).at("/choices/0/text").asString()).isEqualTo("middle()");
    var fim = gw.worker.lastRequest.getFim();
    assertThat(fim.getPrefix()).isEqualTo("def add(a, b):\n    return ");
    assertThat(fim.getSuffix()).isEqualTo("\n\nprint(add(1, 2))");
    // a vocabulary without FIM tokens: the worker's 400 names suffix
    HttpResponse<String> no =
        gw.post(
            "/v1/completions", TestGateway.KEY, completion("\"[no-fim] x\"", "\"suffix\":\"y\""));
    assertThat(no.statusCode()).isEqualTo(400);
    assertThat(json(no.body()).at("/error/param").asString()).isEqualTo("suffix");
  }

  @Test
  void severalPromptsAndNChoicesAreNumberedPromptTimesNPlusChoice() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/v1/completions",
            TestGateway.KEY,
            completion("[\"aaaa\",\"bbbbbbbb\"]", "\"n\":2,\"max_tokens\":8"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode b = json(r.body());
    assertThat(b.get("choices").size()).isEqualTo(4);
    for (int i = 0; i < 4; i++) {
      assertThat(b.at("/choices/" + i + "/index").asInt()).isEqualTo(i);
    }
    // each prompt counted once: 2 + 3 tokens; 2 × 2 choices of 4 tokens
    assertThat(b.at("/usage/prompt_tokens").asInt()).isEqualTo(5);
    assertThat(b.at("/usage/completion_tokens").asInt()).isEqualTo(16);
    HttpResponse<String> ids =
        gw.post("/v1/completions", TestGateway.KEY, completion("[[1,2,3],[4,5]]", null));
    assertThat(ids.statusCode()).isEqualTo(200);
    assertThat(json(ids.body()).at("/usage/prompt_tokens").asInt()).isEqualTo(5);
  }

  @Test
  void echoAndLogprobsInTheCompletionsShape() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/v1/completions",
            TestGateway.KEY,
            completion("\"Say: \"", "\"echo\":true,\"logprobs\":2"));
    JsonNode c = json(r.body()).at("/choices/0");
    assertThat(c.get("text").asString()).isEqualTo("Say: Hello, world!");
    JsonNode lp = c.get("logprobs");
    assertThat(lp.get("tokens").size()).isEqualTo(5);
    assertThat(lp.at("/tokens/1").asString()).isEqualTo("Hello");
    assertThat(lp.at("/token_logprobs/1").asDouble()).isNegative();
    assertThat(lp.at("/top_logprobs/1").size()).isEqualTo(2);
    assertThat(lp.at("/text_offset/0").asInt()).isZero();
    assertThat(lp.at("/text_offset/1").asInt()).isEqualTo(5);
    assertThat(lp.at("/text_offset/2").asInt()).isEqualTo(10);
    assertThat(gw.worker.lastRequest.getEcho()).isTrue();
  }

  @Test
  void streamingEndsWithFinishUsageAndDone() throws Exception {
    List<String> data =
        dataLines(
            gw.post(
                    "/v1/completions",
                    TestGateway.KEY,
                    completion(
                        "\"hi\"", "\"stream\":true,\"stream_options\":{\"include_usage\":true}"))
                .body());
    assertThat(data).last().isEqualTo("[DONE]");
    StringBuilder text = new StringBuilder();
    for (String d : data.subList(0, 4)) {
      JsonNode c = json(d);
      assertThat(c.get("object").asString()).isEqualTo("text_completion");
      text.append(c.at("/choices/0/text").asString());
      assertThat(c.at("/choices/0/finish_reason").isNull()).isTrue();
    }
    assertThat(text).hasToString("Hello, world!");
    assertThat(json(data.get(4)).at("/choices/0/finish_reason").asString()).isEqualTo("stop");
    assertThat(json(data.get(5)).at("/usage/completion_tokens").asInt()).isEqualTo(4);
  }

  @Test
  void badCompletionRequestsNameTheField() throws Exception {
    for (String[] c :
        new String[][] {
          {completion("\"x\"", "\"logit_bias\":{\"1\":2}"), "logit_bias"},
          {completion("\"x\"", "\"best_of\":3"), "best_of"},
          {completion("[]", null), "prompt"},
          {completion("[[1,-2]]", null), "prompt[0][1]"},
          {completion("[1,2]", "\"suffix\":\"s\""), "suffix"},
          {completion("\"x\"", "\"echo\":true,\"suffix\":\"s\""), "echo"},
          {completion("\"x\"", "\"logprobs\":6"), "logprobs"},
          {completion("\"x\"", "\"messages\":[]"), "messages"},
          {"{\"model\":\"" + TestGateway.MODEL + "\"}", "prompt"}
        }) {
      HttpResponse<String> r = gw.post("/v1/completions", TestGateway.KEY, c[0]);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertThat(json(r.body()).at("/error/param").asString()).as(c[0]).isEqualTo(c[1]);
    }
    assertThat(gw.post("/v1/completions", null, completion("\"x\"", null)).statusCode())
        .isEqualTo(401);
  }

  @Test
  void theTokenizerCountsWhatChatBills() throws Exception {
    String messages =
        "\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\","
            + "\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},{\"role\":\"user\","
            + "\"content\":\"weather?\"}],"
            + ToolsApiTest.TOOLS;
    String body = "{\"model\":\"" + TestGateway.MODEL + "\"," + messages + "}";
    int billed =
        json(gw.post("/api/paas/v4/chat/completions", TestGateway.KEY, body).body())
            .at("/usage/prompt_tokens")
            .asInt();
    HttpResponse<String> t = gw.post("/api/paas/v4/tokenizer", TestGateway.KEY, body);
    assertThat(t.statusCode()).as(t.body()).isEqualTo(200);
    JsonNode tb = json(t.body());
    assertThat(tb.at("/usage/prompt_tokens").asInt()).isEqualTo(billed).isEqualTo(12 + 6 + 5);
    assertThat(tb.get("id").asString()).matches("\\d+");
    assertThat(gw.worker.lastTokenize.getChat().getToolsCount()).isEqualTo(1);

    HttpResponse<String> v = gw.post("/tokenize", TestGateway.KEY, body);
    assertThat(v.statusCode()).as(v.body()).isEqualTo(200);
    JsonNode vb = json(v.body());
    assertThat(vb.get("count").asInt()).isEqualTo(billed);
    assertThat(vb.get("tokens").size()).isEqualTo(billed);
    assertThat(vb.get("max_model_len").asInt()).isEqualTo(8192);
    HttpResponse<String> text =
        gw.post(
            "/tokenize",
            TestGateway.KEY,
            "{\"model\":\"" + TestGateway.MODEL + "\",\"prompt\":\"12345678\"}");
    assertThat(json(text.body()).get("count").asInt()).isEqualTo(3);
    assertThat(gw.worker.lastTokenize.getParseSpecial()).isTrue();
  }

  @Test
  void theTokenizerGoesThroughAuthAndChecks() throws Exception {
    String body =
        "{\"model\":\""
            + TestGateway.MODEL
            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    assertThat(gw.post("/api/paas/v4/tokenizer", null, body).statusCode()).isEqualTo(401);
    HttpResponse<String> noAuth = gw.post("/tokenize", null, body);
    assertThat(noAuth.statusCode()).isEqualTo(401);
    assertThat(json(noAuth.body()).at("/error/type").asString()).isEqualTo("authentication_error");
    assertThat(gw.post("/api/paas/v4/tokenizer", TestGateway.RESTRICTED_KEY, body).statusCode())
        .isEqualTo(403);
    HttpResponse<String> unknown =
        gw.post(
            "/api/paas/v4/tokenizer",
            TestGateway.KEY,
            body.substring(0, body.length() - 1) + ",\"temperature\":1}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(json(unknown.body()).at("/error/code").asString()).isEqualTo("1210");
    HttpResponse<String> both =
        gw.post(
            "/tokenize",
            TestGateway.KEY,
            body.substring(0, body.length() - 1) + ",\"prompt\":\"x\"}");
    assertThat(both.statusCode()).isEqualTo(400);
    HttpResponse<String> special =
        gw.post(
            "/tokenize",
            TestGateway.KEY,
            "{\"model\":\""
                + TestGateway.MODEL
                + "\",\"prompt\":\"x\",\"add_special_tokens\":true}");
    assertThat(json(special.body()).at("/error/param").asString()).isEqualTo("add_special_tokens");
    assertThat(gw.get("/tokenize", TestGateway.KEY).statusCode()).isEqualTo(405);
  }

  @Test
  void detokenizeTurnsIdsBackIntoText() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "/detokenize",
            TestGateway.KEY,
            "{\"model\":\"" + TestGateway.MODEL + "\",\"tokens\":[100,7,151329]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r.body()).get("prompt").asString()).isEqualTo("<100><7><151329>");
    HttpResponse<String> bad =
        gw.post(
            "/detokenize",
            TestGateway.KEY,
            "{\"model\":\"" + TestGateway.MODEL + "\",\"tokens\":[1,\"x\"]}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad.body()).at("/error/param").asString()).isEqualTo("tokens[1]");
    assertThat(gw.post("/detokenize", null, "{}").statusCode()).isEqualTo(401);
  }
}
