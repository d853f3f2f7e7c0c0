package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Knowledge bases end to end against {@code ./glm up} (which starts knowledge-service): create a
 * knowledge base, upload a Markdown file and a PDF (made here with PDFBox) with distinct
 * paragraphs, wait until both are indexed, retrieve with a query equal to one PDF paragraph → that
 * paragraph's chunk is first (equal text embeds identically, even with the demo model's random
 * weights); a chat with the retrieval tool bills more prompt tokens than the same chat without it
 * and names the chunk used.
 */
@DisabledIfSystemProperty(
    named = "glm.launcher.e2e",
    matches = "false",
    disabledReason = "end-to-end launcher test switched off with -Dglm.launcher.e2e=false")
class KnowledgeEndToEndTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String BOUNDARY = "knowledgeE2eBoundary";
  static final String TARGET = "Ferns reproduce with spores that grow on the underside of fronds.";

  @TempDir Path data;

  @Test
  void uploadIndexRetrieveAndGroundAChat() throws Exception {
    Path home = Path.of(System.getProperty("glm.home", "../.."));
    Process up =
        new ProcessBuilder(
                home.resolve("glm").toString(),
                "up",
                "--data",
                data.toString(),
                "--ephemeral-ports")
            .redirectErrorStream(true)
            .start();
    StringBuffer out = new StringBuffer();
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  out.append(line).append('\n');
                  System.out.println("[glm up] " + line);
                }
              } catch (Exception e) {
                // ended
              }
            });
    try {
      Map<?, ?> ep = awaitReady(up, out);
      String gw = (String) ep.get("gateway_url");
      String key = (String) ep.get("api_key");

      Map<?, ?> kb = json(post(gw + "/api/paas/v4/knowledge", key, "{\"name\":\"botany\"}"));
      String kbId = (String) kb.get("id");
      String md =
          "# Plants\n\nMosses have no true roots and absorb water through their leaves.\n\n"
              + "Cacti store water in thick stems to survive long droughts.\n";
      Map<?, ?> mdDoc =
          json(upload(gw, key, kbId, "plants.md", md.getBytes(StandardCharsets.UTF_8)));
      Map<?, ?> pdfDoc =
          json(
              upload(
                  gw,
                  key,
                  kbId,
                  "ferns.pdf",
                  pdf(
                      List.of(
                          "Horsetails are living fossils with hollow jointed stems.",
                          TARGET,
                          "Cycads look like palms but bear large seed cones."))));
      assertThat(mdDoc.get("status")).isEqualTo("pending");

      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      List<?> docs = List.of();
      while (System.nanoTime() < deadline) {
        docs =
            (List<?>)
                json(get(gw + "/api/paas/v4/knowledge/" + kbId + "/documents", key)).get("data");
        if (docs.size() == 2
            && docs.stream().allMatch(d -> "indexed".equals(((Map<?, ?>) d).get("status")))) {
          break;
        }
        assertThat(docs.toString()).doesNotContain("failed");
        Thread.sleep(500);
      }
      assertThat(docs).allMatch(d -> "indexed".equals(((Map<?, ?>) d).get("status")));

      Map<?, ?> hits =
          json(
              post(
                  gw + "/api/paas/v4/knowledge/" + kbId + "/retrieve",
                  key,
                  "{\"query\":\"" + TARGET + "\",\"top_k\":3}"));
      Map<?, ?> first = (Map<?, ?>) ((List<?>) hits.get("data")).get(0);
      assertThat(first.get("text")).isEqualTo(TARGET);
      assertThat(first.get("document_id")).isEqualTo(pdfDoc.get("id"));
      assertThat(((Number) first.get("score")).doubleValue()).isGreaterThan(0.999);

      String question = TARGET;
      String plainBody =
          "{\"model\":\""
              + ep.get("model")
              + "\",\"max_tokens\":4,"
              + "\"messages\":[{\"role\":\"user\",\"content\":\""
              + question
              + "\"}]";
      Map<?, ?> plain = json(post(gw + "/api/paas/v4/chat/completions", key, plainBody + "}"));
      Map<?, ?> grounded =
          json(
              post(
                  gw + "/api/paas/v4/chat/completions",
                  key,
                  plainBody
                      + ",\"tools\":[{\"type\":\"retrieval\",\"retrieval\":{\"knowledge_id\":\""
                      + kbId
                      + "\"}}]}"));
      int plainPrompt = ((Number) ((Map<?, ?>) plain.get("usage")).get("prompt_tokens")).intValue();
      int groundedPrompt =
          ((Number) ((Map<?, ?>) grounded.get("usage")).get("prompt_tokens")).intValue();
      assertThat(groundedPrompt).isGreaterThan(plainPrompt);
      Map<?, ?> used = (Map<?, ?>) grounded.get("retrieval");
      Map<?, ?> chunk = (Map<?, ?>) ((List<?>) used.get("chunks")).get(0);
      assertThat(chunk.get("chunk_id")).isEqualTo(first.get("chunk_id"));
      assertThat(chunk.get("document_id")).isEqualTo(pdfDoc.get("id"));
    } finally {
      up.destroy();
      if (!up.waitFor(90, TimeUnit.SECONDS)) {
        up.destroyForcibly();
      }
    }
  }

  static byte[] pdf(List<String> paragraphs) throws Exception {
    try (PDDocument doc = new PDDocument();
        ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      PDPage page = new PDPage();
      doc.addPage(page);
      try (PDPageContentStream cs = new PDPageContentStream(doc, page)) {
        float y = 740;
        for (String p : paragraphs) {
          cs.beginText();
          cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 10);
          cs.newLineAtOffset(40, y);
          cs.showText(p);
          cs.endText();
          y -= 48;
        }
      }
      doc.save(out);
      return out.toByteArray();
    }
  }

  private Map<?, ?> awaitReady(Process up, StringBuffer out) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(12).toNanos();
    Path endpoints = data.resolve("endpoints.json");
    while (System.nanoTime() < deadline) {
      if (!up.isAlive()) {
        throw new AssertionError("./glm up exited before READY:\n" + out);
      }
      if (Files.isRegularFile(endpoints) && out.toString().contains("GLM MaaS is READY")) {
        return LauncherState.JSON.readValue(endpoints.toFile(), Map.class);
      }
      Thread.sleep(500);
    }
    throw new AssertionError("./glm up not READY:\n" + out);
  }

  static Map<?, ?> json(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return LauncherState.JSON.readValue(r.body(), Map.class);
  }

  static HttpResponse<String> post(String url, String key, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofMinutes(2))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String url, String key) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> upload(String gw, String key, String kb, String name, byte[] content)
      throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    String crlf = "\r\n";
    String head = "--" + BOUNDARY + crlf + "Content-Disposition: form-data; name=";
    b.writeBytes((head + "\"purpose\"" + crlf + crlf + "retrieval" + crlf).getBytes());
    b.writeBytes((head + "\"knowledge_id\"" + crlf + crlf + kb + crlf).getBytes());
    b.writeBytes(
        (head + "\"file\"; filename=\"" + name + "\"" + crlf + crlf)
            .getBytes(StandardCharsets.UTF_8));
    b.writeBytes(content);
    b.writeBytes((crlf + "--" + BOUNDARY + "--" + crlf).getBytes());
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(gw + "/api/paas/v4/files"))
            .timeout(Duration.ofMinutes(2))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
            .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
