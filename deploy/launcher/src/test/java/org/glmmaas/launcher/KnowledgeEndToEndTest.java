package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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

  @TempDir static Path data;

  /** One platform for the class: its start (minutes on a loaded machine) is paid once. */
  private static GlmUp up;

  private static Map<?, ?> ep;

  @BeforeAll
  static void startPlatform() throws Exception {
    up = GlmUp.start(data);
    try {
      ep = up.awaitReady();
    } catch (Throwable t) {
      up.kill(Duration.ofSeconds(90));
      throw t;
    }
  }

  @AfterAll
  static void stopPlatform() throws Exception {
    if (up != null) {
      up.kill(Duration.ofSeconds(90));
    }
  }

  @Test
  void uploadIndexRetrieveAndGroundAChat() throws Exception {
    {
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
    }
  }

  /**
   * The must-show crash test inside {@code ./glm up}: knowledge-service is killed with SIGKILL
   * while it indexes a 200-page PDF; the launcher starts it again (bounded restarts, like the
   * workers), the restarted service takes back its job, and the document ends indexed with every
   * chunk in the Lucene index exactly once (read from the index folder) and as many chunks indexed
   * as the API reports.
   */
  @Test
  @DisabledIfSystemProperty(
      named = "glm.knowledge.kill-e2e",
      matches = "false",
      disabledReason = "kill -9 during indexing under ./glm up switched off")
  void kill9OfKnowledgeServiceWhileIndexingA200PageDocumentThenEveryChunkIsIndexedOnce()
      throws Exception {
    String gw = (String) ep.get("gateway_url");
    String key = (String) ep.get("api_key");
    String kbId =
        (String) json(post(gw + "/api/paas/v4/knowledge", key, "{\"name\":\"book\"}")).get("id");
    List<List<String>> pages = new java.util.ArrayList<>();
    for (int p = 1; p <= 200; p++) {
      List<String> lines = new java.util.ArrayList<>();
      for (int l = 1; l <= 6; l++) {
        lines.add(
            "Page "
                + p
                + " line "
                + l
                + ": the herbarium sheet "
                + (p * 100 + l)
                + " records a specimen pressed in spring and labelled by hand.");
      }
      pages.add(lines);
    }
    String docId = (String) json(upload(gw, key, kbId, "book.pdf", pdfPages(pages))).get("id");

    ProcessHandle knowledge =
        up.process
            .toHandle()
            .descendants()
            .filter(h -> h.info().commandLine().orElse("").contains("--glm.knowledge.grpc.port="))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no knowledge-service process under ./glm up"));
    String docsUrl = gw + "/api/paas/v4/knowledge/" + kbId + "/documents";
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    Map<?, ?> atKill = null;
    while (atKill == null) {
      assertThat(System.nanoTime()).as("indexing started").isLessThan(deadline);
      Map<?, ?> d = document(docsUrl, key, docId);
      if (d != null) {
        int indexed = ((Number) d.get("chunks_indexed")).intValue();
        int total = ((Number) d.get("chunk_count")).intValue();
        assertThat(d.get("status")).as("killed before the end: %s", d).isNotEqualTo("indexed");
        if (indexed > 0 && indexed < total) {
          knowledge.destroyForcibly(); // SIGKILL
          atKill = d;
        }
      }
      Thread.sleep(50);
    }
    assertThat(knowledge.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
    System.out.printf("[knowledge e2e] knowledge-service killed at %s%n", atKill);

    Map<?, ?> done = null;
    deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (done == null) {
      assertThat(System.nanoTime())
          .as("indexed within 5 minutes of the kill:%n%s", up.output())
          .isLessThan(deadline);
      Map<?, ?> d = document(docsUrl, key, docId); // null while knowledge-service restarts
      if (d != null) {
        assertThat(d.get("status")).as("%s", d).isNotEqualTo("failed");
        if ("indexed".equals(d.get("status"))) {
          done = d;
        }
      }
      Thread.sleep(250);
    }
    assertThat(up.output()).containsPattern("knowledge-service +stopped unexpectedly");
    assertThat(up.process.isAlive()).as("./glm up still serving").isTrue();
    int chunks = ((Number) done.get("chunk_count")).intValue();
    assertThat(chunks).isEqualTo(((Number) atKill.get("chunk_count")).intValue());
    assertThat(done.get("chunks_indexed")).isEqualTo(chunks);
    // 200 pages of 6 paragraphs (one chunk each: a paragraph is never merged with the next)
    assertThat(chunks).isGreaterThan(100);

    Map<String, Integer> inIndex = luceneChunkIds(data.resolve("knowledge-index").resolve(kbId));
    assertThat(inIndex).hasSize(chunks);
    assertThat(inIndex.entrySet()).allSatisfy(e -> assertThat(e.getValue()).as(e.getKey()).isOne());

    // and the book is searchable after the restart: a line's exact text finds it first
    String line = pages.get(149).get(4);
    Map<?, ?> first =
        (Map<?, ?>)
            ((List<?>)
                    json(post(
                            gw + "/api/paas/v4/knowledge/" + kbId + "/retrieve",
                            key,
                            "{\"query\":\"" + line + "\",\"top_k\":1}"))
                        .get("data"))
                .getFirst();
    assertThat((String) first.get("text")).contains(line);
  }

  /** The document's JSON from the list, or null while the API does not answer 200. */
  private static Map<?, ?> document(String docsUrl, String key, String docId) {
    try {
      HttpResponse<String> r = get(docsUrl, key);
      if (r.statusCode() != 200) {
        return null;
      }
      for (Object d : (List<?>) LauncherState.JSON.readValue(r.body(), Map.class).get("data")) {
        if (docId.equals(((Map<?, ?>) d).get("id"))) {
          return (Map<?, ?>) d;
        }
      }
      throw new AssertionError("document " + docId + " not listed: " + r.body());
    } catch (Exception e) { // a timeout or a refused connection while it restarts
      return null;
    }
  }

  /** Live Lucene documents per chunk id in a knowledge base's index folder (read-only). */
  static Map<String, Integer> luceneChunkIds(Path indexDir) throws Exception {
    Map<String, Integer> counts = new java.util.HashMap<>();
    try (org.apache.lucene.store.Directory dir =
            org.apache.lucene.store.FSDirectory.open(indexDir);
        org.apache.lucene.index.DirectoryReader reader =
            org.apache.lucene.index.DirectoryReader.open(dir)) {
      for (var leaf : reader.leaves()) {
        var r = leaf.reader();
        var live = r.getLiveDocs();
        var stored = r.storedFields();
        for (int i = 0; i < r.maxDoc(); i++) {
          if (live == null || live.get(i)) {
            counts.merge(stored.document(i).get("id"), 1, Integer::sum);
          }
        }
      }
    }
    return counts;
  }

  static byte[] pdf(List<String> paragraphs) throws Exception {
    return pdfPages(List.of(paragraphs));
  }

  /** A PDF with one page per list, each string a paragraph of its own. */
  static byte[] pdfPages(List<List<String>> pages) throws Exception {
    try (PDDocument doc = new PDDocument();
        ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      for (List<String> paragraphs : pages) {
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
      }
      doc.save(out);
      return out.toByteArray();
    }
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
