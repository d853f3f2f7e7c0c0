package org.glmmaas.gateway.knowledge;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The knowledge routes, retrieval uploads and the chat retrieval tool through the real gateway,
 * against a FakeKnowledgeService (knowledge-service's own behaviour is tested in its module).
 */
class KnowledgeApiTest {

  static final TestGateway G = TestGateway.get();
  static final String BOUNDARY = "kbBoundary7MA4YWxk";

  static HttpResponse<String> upload(String key, String knowledgeId, String name, byte[] content)
      throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    String crlf = "\r\n";
    String head = "--" + BOUNDARY + crlf + "Content-Disposition: form-data; name=";
    b.writeBytes((head + "\"purpose\"" + crlf + crlf + "retrieval" + crlf).getBytes());
    b.writeBytes((head + "\"knowledge_id\"" + crlf + crlf + knowledgeId + crlf).getBytes());
    b.writeBytes(
        (head
                + "\"file\"; filename=\""
                + name
                + "\""
                + crlf
                + "Content-Type: text/markdown"
                + crlf
                + crlf)
            .getBytes(StandardCharsets.UTF_8));
    b.writeBytes(content);
    b.writeBytes((crlf + "--" + BOUNDARY + "--" + crlf).getBytes());
    return G.http.send(
        HttpRequest.newBuilder(URI.create(G.url("/api/paas/v4/files")))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
            .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) {
    return Json.MAPPER.readTree(r.body());
  }

  static String chat(String tools) {
    return "{\"model\":\""
        + TestGateway.MODEL
        + "\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
        + "{\"role\":\"user\",\"content\":\"Ferns reproduce with spores.\"}]"
        + (tools == null ? "" : ",\"tools\":" + tools)
        + "}";
  }

  @Test
  void createUploadRetrieveAndChatWithTheRetrievalTool() throws Exception {
    HttpResponse<String> created =
        G.post("/api/paas/v4/knowledge", TestGateway.KEY, "{\"name\":\"plants\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    String kb = json(created).get("id").asString();

    HttpResponse<String> up =
        upload(TestGateway.KEY, kb, "ferns.md", "Ferns reproduce with spores.".getBytes());
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    JsonNode file = json(up);
    assertThat(file.get("object").asString()).isEqualTo("file");
    assertThat(file.get("purpose").asString()).isEqualTo("retrieval");
    assertThat(file.get("knowledge_id").asString()).isEqualTo(kb);
    String doc = file.get("id").asString();
    upload(TestGateway.KEY, kb, "moss.md", "Mosses lack roots.".getBytes());

    JsonNode docs = json(G.get("/api/paas/v4/knowledge/" + kb + "/documents", TestGateway.KEY));
    assertThat(docs.get("data")).hasSize(2);
    assertThat(docs.get("data").get(0).get("status").asString()).isEqualTo("indexed");

    HttpResponse<String> r =
        G.post(
            "/api/paas/v4/knowledge/" + kb + "/retrieve",
            TestGateway.KEY,
            "{\"query\":\"Ferns reproduce with spores.\",\"top_k\":1}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode hit = json(r).get("data").get(0);
    assertThat(hit.get("document_id").asString()).isEqualTo(doc);
    assertThat(hit.get("text").asString()).isEqualTo("Ferns reproduce with spores.");
    assertThat(G.knowledge.lastRetrieve.getKeyId()).isEqualTo("kmain");

    HttpResponse<String> plain =
        G.post("/api/paas/v4/chat/completions", TestGateway.KEY, chat(null));
    assertThat(plain.statusCode()).as(plain.body()).isEqualTo(200);
    String plainPrompt = G.worker.lastRequest.getChat().getMessagesList().getLast().getContent();
    HttpResponse<String> grounded =
        G.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            chat("[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\"" + kb + "\"}}]"));
    assertThat(grounded.statusCode()).as(grounded.body()).isEqualTo(200);
    String groundedPrompt = G.worker.lastRequest.getChat().getMessagesList().getLast().getContent();
    assertThat(plainPrompt).isEqualTo("Ferns reproduce with spores.");
    assertThat(groundedPrompt)
        .contains("知识库内容")
        .contains("Mosses lack roots.")
        .endsWith("问题：Ferns reproduce with spores.");
    assertThat(G.worker.lastRequest.getChat().getToolsCount()).isZero();
    JsonNode used = json(grounded).get("retrieval");
    assertThat(used.get("knowledge_id").asString()).isEqualTo(kb);
    assertThat(used.get("chunks").get(0).get("chunk_id").asString()).isEqualTo(doc + "-0");
    assertThat(used.get("chunks").get(0).get("score").asDouble()).isEqualTo(1.0);
    assertThat(grounded.headers().firstValue(RetrievalTool.HEADER)).isPresent();
    // billing holds the grounded prompt: the reservation of the call covers the knowledge
    assertThat(G.billing.reserveRequests.get(G.worker.lastRequest.getRequestId()).getPromptTokens())
        .isGreaterThan(
            groundedPrompt.getBytes(StandardCharsets.UTF_8).length
                - plainPrompt.getBytes(StandardCharsets.UTF_8).length);
    assertThat(json(plain).has("retrieval")).isFalse();

    HttpResponse<String> templated =
        G.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            chat(
                "[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\""
                    + kb
                    + "\",\"prompt_template\":\"K: {{knowledge}} Q: {{question}}\"}}]"));
    assertThat(templated.statusCode()).isEqualTo(200);
    assertThat(G.worker.lastRequest.getChat().getMessagesList().getLast().getContent())
        .startsWith("K: Ferns reproduce with spores.")
        .endsWith("Q: Ferns reproduce with spores.");
  }

  /**
   * The retrieval tool is served wherever chat goes: the OpenAI dialect's /v1/chat/completions and
   * BigModel's async chat ground the prompt the same way, the call is reserved on the grounded
   * prompt, and the completion (the async task's result) names the chunks used.
   */
  @Test
  void theRetrievalToolGroundsOpenAiAndAsyncChatsToo() throws Exception {
    String kb =
        json(G.post("/api/paas/v4/knowledge", TestGateway.KEY, "{\"name\":\"everywhere\"}"))
            .get("id")
            .asString();
    String doc =
        json(upload(TestGateway.KEY, kb, "ferns.md", "Ferns reproduce with spores.".getBytes()))
            .get("id")
            .asString();
    String tool = "[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\"" + kb + "\"}}]";

    HttpResponse<String> openAi = G.post("/v1/chat/completions", TestGateway.KEY, chat(tool));
    assertThat(openAi.statusCode()).as(openAi.body()).isEqualTo(200);
    String prompt = G.worker.lastRequest.getChat().getMessagesList().getLast().getContent();
    assertThat(prompt).contains("知识库内容").endsWith("问题：Ferns reproduce with spores.");
    assertThat(G.worker.lastRequest.getChat().getToolsCount()).isZero();
    assertThat(G.billing.reserveRequests.get(G.worker.lastRequest.getRequestId()).getPromptTokens())
        .isGreaterThan(10);
    JsonNode used = json(openAi).get("retrieval");
    assertThat(used.get("knowledge_id").asString()).isEqualTo(kb);
    assertThat(used.get("chunks").get(0).get("document_id").asString()).isEqualTo(doc);
    assertThat(json(openAi).get("object").asString()).isEqualTo("chat.completion");

    HttpResponse<String> submitted =
        G.post("/api/paas/v4/async/chat/completions", TestGateway.KEY, chat(tool));
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(200);
    String id = json(submitted).get("id").asString();
    JsonNode res = null;
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      res = json(G.get("/api/paas/v4/async-result/" + id, TestGateway.KEY));
      if (!"PROCESSING".equals(res.get("task_status").asString())) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(res.get("task_status").asString()).as(res.toString()).isEqualTo("SUCCESS");
    JsonNode asyncUsed = res.get("retrieval");
    assertThat(asyncUsed).as(res.toString()).isNotNull();
    assertThat(asyncUsed.get("chunks").get(0).get("document_id").asString()).isEqualTo(doc);
    assertThat(res.at("/usage/prompt_tokens").asInt()).isGreaterThan(0);

    // another tenant's knowledge base is a 404 on these routes too, and nothing runs
    HttpResponse<String> foreign =
        G.post("/api/paas/v4/async/chat/completions", TestGateway.OTHER_TENANT_KEY, chat(tool));
    assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(404);
    assertThat(
            G.post("/v1/chat/completions", TestGateway.OTHER_TENANT_KEY, chat(tool)).statusCode())
        .isEqualTo(404);
  }

  @Test
  void anotherTenantsKnowledgeIsA404EverywhereAndBadInputA400() throws Exception {
    String kb =
        json(G.post("/api/paas/v4/knowledge", TestGateway.KEY, "{\"name\":\"mine\"}"))
            .get("id")
            .asString();
    String other = TestGateway.OTHER_TENANT_KEY;
    assertThat(G.get("/api/paas/v4/knowledge/" + kb, other).statusCode()).isEqualTo(404);
    assertThat(G.get("/api/paas/v4/knowledge/" + kb + "/documents", other).statusCode())
        .isEqualTo(404);
    assertThat(
            G.post("/api/paas/v4/knowledge/" + kb + "/retrieve", other, "{\"query\":\"x\"}")
                .statusCode())
        .isEqualTo(404);
    assertThat(upload(other, kb, "a.md", "x".getBytes()).statusCode()).isEqualTo(404);
    HttpResponse<String> chat =
        G.post(
            "/api/paas/v4/chat/completions",
            other,
            chat("[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\"" + kb + "\"}}]"));
    assertThat(chat.statusCode()).isEqualTo(404);
    assertThat(json(G.get("/api/paas/v4/knowledge", other)).get("data").toString())
        .doesNotContain(kb);

    HttpResponse<String> noName = G.post("/api/paas/v4/knowledge", TestGateway.KEY, "{}");
    assertThat(noName.statusCode()).isEqualTo(400);
    assertThat(noName.body()).contains("'name' is required");
    HttpResponse<String> unknown =
        G.post("/api/paas/v4/knowledge", TestGateway.KEY, "{\"name\":\"a\",\"color\":1}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("unknown field 'color'");
    HttpResponse<String> badK =
        G.post(
            "/api/paas/v4/knowledge/" + kb + "/retrieve",
            TestGateway.KEY,
            "{\"query\":\"x\",\"top_k\":99}");
    assertThat(badK.statusCode()).isEqualTo(400);
    HttpResponse<String> empty = upload(TestGateway.KEY, kb, "a.md", new byte[0]);
    assertThat(empty.statusCode()).isEqualTo(400);
    HttpResponse<String> noKid =
        G.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            chat("[{\"type\":\"retrieval\",\"retrieval\":{}}]"));
    assertThat(noKid.statusCode()).isEqualTo(400);
    assertThat(noKid.body()).contains("knowledge_id");
    HttpResponse<String> badTpl =
        G.post(
            "/api/paas/v4/chat/completions",
            TestGateway.KEY,
            chat(
                "[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\""
                    + kb
                    + "\",\"prompt_template\":\"no placeholder\"}}]"));
    assertThat(badTpl.statusCode()).isEqualTo(400);
    assertThat(badTpl.body()).contains("{{knowledge}}");

    assertThat(
            G.http
                .send(
                    HttpRequest.newBuilder(URI.create(G.url("/api/paas/v4/knowledge/" + kb)))
                        .header("Authorization", "Bearer " + TestGateway.KEY)
                        .DELETE()
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
    assertThat(G.get("/api/paas/v4/knowledge/" + kb, TestGateway.KEY).statusCode()).isEqualTo(404);
  }
}
