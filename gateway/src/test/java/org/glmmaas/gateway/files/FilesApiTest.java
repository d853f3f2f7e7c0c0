package org.glmmaas.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The Files API of both dialects through real HTTP against the test gateway. */
class FilesApiTest {

  static final TestGateway G = TestGateway.get();
  static final String BOUNDARY = "----glmFilesTestBoundary7MA4YWxk";
  static final String JSONL =
      "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{}}\n"
          + "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{}}\n";

  static byte[] form(String purpose, String filename, byte[] content, String... extra) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    String crlf = "\r\n";
    if (purpose != null) {
      b.writeBytes(
          ("--"
                  + BOUNDARY
                  + crlf
                  + "Content-Disposition: form-data; name=\"purpose\""
                  + crlf
                  + crlf
                  + purpose
                  + crlf)
              .getBytes(StandardCharsets.UTF_8));
    }
    for (int i = 0; i + 1 < extra.length; i += 2) {
      b.writeBytes(
          ("--"
                  + BOUNDARY
                  + crlf
                  + "Content-Disposition: form-data; name=\""
                  + extra[i]
                  + "\""
                  + crlf
                  + crlf
                  + extra[i + 1]
                  + crlf)
              .getBytes(StandardCharsets.UTF_8));
    }
    if (content != null) {
      b.writeBytes(
          ("--"
                  + BOUNDARY
                  + crlf
                  + "Content-Disposition: form-data; name=\"file\"; filename=\""
                  + filename
                  + "\""
                  + crlf
                  + "Content-Type: application/octet-stream"
                  + crlf
                  + crlf)
              .getBytes(StandardCharsets.UTF_8));
      b.writeBytes(content);
      b.writeBytes(crlf.getBytes(StandardCharsets.UTF_8));
    }
    b.writeBytes(("--" + BOUNDARY + "--" + crlf).getBytes(StandardCharsets.UTF_8));
    return b.toByteArray();
  }

  static HttpResponse<String> upload(String path, String key, byte[] body, boolean chunked)
      throws Exception {
    HttpRequest.BodyPublisher pub =
        chunked
            ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))
            : HttpRequest.BodyPublishers.ofByteArray(body);
    return G.http.send(
        HttpRequest.newBuilder(URI.create(G.url(path)))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
            .POST(pub)
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> upload(String path, String key, byte[] body) throws Exception {
    return upload(path, key, body, false);
  }

  static HttpResponse<String> delete(String path, String key) throws Exception {
    return G.http.send(
        HttpRequest.newBuilder(URI.create(G.url(path)))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .DELETE()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) {
    return Json.MAPPER.readTree(r.body());
  }

  @Test
  void uploadGetContentListDeleteOnBothDialects() throws Exception {
    for (String base : List.of("/v1/files", "/api/paas/v4/files")) {
      HttpResponse<String> up =
          upload(base, TestGateway.KEY, form("batch", "in.jsonl", JSONL.getBytes()));
      assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
      JsonNode f = json(up);
      String id = f.get("id").asString();
      assertThat(id).startsWith("file-");
      assertThat(f.get("object").asString()).isEqualTo("file");
      assertThat(f.get("bytes").asLong()).isEqualTo(JSONL.getBytes().length);
      assertThat(f.get("filename").asString()).isEqualTo("in.jsonl");
      assertThat(f.get("purpose").asString()).isEqualTo("batch");
      assertThat(f.get("status").asString()).isEqualTo("processed");
      assertThat(f.get("created_at").asLong())
          .isBetween(System.currentTimeMillis() / 1000 - 60, System.currentTimeMillis() / 1000 + 1);

      HttpResponse<String> got = G.get(base + "/" + id, TestGateway.KEY);
      assertThat(got.statusCode()).isEqualTo(200);
      assertThat(json(got)).isEqualTo(f);

      HttpResponse<String> content = G.get(base + "/" + id + "/content", TestGateway.KEY);
      assertThat(content.statusCode()).isEqualTo(200);
      assertThat(content.body()).isEqualTo(JSONL);

      HttpResponse<String> list = G.get(base + "?purpose=batch", TestGateway.KEY);
      assertThat(list.statusCode()).isEqualTo(200);
      assertThat(json(list).get("object").asString()).isEqualTo("list");
      List<String> ids = new ArrayList<>();
      json(list).get("data").forEach(n -> ids.add(n.get("id").asString()));
      assertThat(ids).contains(id);

      HttpResponse<String> del = delete(base + "/" + id, TestGateway.KEY);
      assertThat(del.statusCode()).isEqualTo(200);
      assertThat(json(del).get("deleted").asBoolean()).isTrue();
      assertThat(json(del).get("id").asString()).isEqualTo(id);
      assertThat(G.get(base + "/" + id, TestGateway.KEY).statusCode()).isEqualTo(404);
      assertThat(G.get(base + "/" + id + "/content", TestGateway.KEY).statusCode()).isEqualTo(404);
      assertThat(delete(base + "/" + id, TestGateway.KEY).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aTenantNeverSeesAnotherTenantsFile() throws Exception {
    HttpResponse<String> up =
        upload("/v1/files", TestGateway.KEY, form("retrieval", "secret.txt", "mine".getBytes()));
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    String id = json(up).get("id").asString();
    String other = TestGateway.OTHER_TENANT_KEY;
    assertThat(G.get("/v1/files/" + id, other).statusCode()).isEqualTo(404);
    assertThat(G.get("/v1/files/" + id + "/content", other).statusCode()).isEqualTo(404);
    assertThat(G.get("/api/paas/v4/files/" + id, other).statusCode()).isEqualTo(404);
    assertThat(delete("/v1/files/" + id, other).statusCode()).isEqualTo(404);
    assertThat(G.get("/v1/files", other).body()).doesNotContain(id);
    // still there for its owner
    assertThat(G.get("/v1/files/" + id + "/content", TestGateway.KEY).body()).isEqualTo("mine");
    // no key, no files
    assertThat(G.get("/v1/files/" + id, null).statusCode()).isEqualTo(401);
    assertThat(G.get("/v1/files", null).statusCode()).isEqualTo(401);
  }

  @Test
  void listPagesWithLimitAfterAndOrder() throws Exception {
    String key = TestGateway.FUZZ_KEY;
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> up =
          upload(
              "/api/paas/v4/files",
              key,
              form("batch", "p" + i + ".jsonl", ("{\"i\":" + i + "}\n").getBytes()));
      assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
      made.add(json(up).get("id").asString());
    }
    upload("/v1/files", key, form("retrieval", "doc.txt", "x".getBytes()));
    JsonNode all = json(G.get("/v1/files?purpose=batch&order=asc", key));
    List<String> asc = new ArrayList<>();
    all.get("data").forEach(n -> asc.add(n.get("id").asString()));
    assertThat(asc).containsExactlyInAnyOrderElementsOf(made);
    assertThat(all.get("has_more").asBoolean()).isFalse();

    JsonNode first = json(G.get("/v1/files?purpose=batch&order=asc&limit=2", key));
    assertThat(first.get("data").size()).isEqualTo(2);
    assertThat(first.get("has_more").asBoolean()).isTrue();
    assertThat(first.get("last_id").asString()).isEqualTo(asc.get(1));
    JsonNode rest =
        json(
            G.get(
                "/v1/files?purpose=batch&order=asc&limit=2&after="
                    + first.get("last_id").asString(),
                key));
    assertThat(rest.get("data").size()).isEqualTo(1);
    assertThat(rest.get("data").get(0).get("id").asString()).isEqualTo(asc.get(2));
    assertThat(rest.get("has_more").asBoolean()).isFalse();

    JsonNode desc = json(G.get("/v1/files?purpose=batch", key));
    List<String> d = new ArrayList<>();
    desc.get("data").forEach(n -> d.add(n.get("id").asString()));
    assertThat(d).isEqualTo(asc.reversed());

    assertThat(G.get("/v1/files?purpose=retrieval", key).body()).doesNotContain(made.get(0));
    assertThat(json(G.get("/v1/files?limit=0", key)).get("error").get("param").asString())
        .isEqualTo("limit");
    assertThat(json(G.get("/v1/files?order=up", key)).get("error").get("param").asString())
        .isEqualTo("order");
    assertThat(json(G.get("/v1/files?purpose=fine-tune", key)).get("error").get("param").asString())
        .isEqualTo("purpose");
    assertThat(json(G.get("/v1/files?after=file-nope", key)).get("error").get("param").asString())
        .isEqualTo("after");
    assertThat(json(G.get("/v1/files?page=2", key)).get("error").get("param").asString())
        .isEqualTo("page");
  }

  @Test
  void badBatchFilesAreClear400sNamingTheLine() throws Exception {
    HttpResponse<String> empty =
        upload("/v1/files", TestGateway.KEY, form("batch", "e.jsonl", new byte[0]));
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(json(empty).get("error").get("param").asString()).isEqualTo("file");
    assertThat(json(empty).get("error").get("message").asString()).contains("empty");

    byte[] binary = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d};
    HttpResponse<String> bin =
        upload("/v1/files", TestGateway.KEY, form("batch", "img.png", binary));
    assertThat(bin.statusCode()).isEqualTo(400);
    assertThat(json(bin).get("error").get("message").asString())
        .contains("line 1")
        .contains("binary");

    String bad = JSONL + "{\"custom_id\": \"c\", oops}\n";
    HttpResponse<String> r =
        upload("/api/paas/v4/files", TestGateway.KEY, form("batch", "bad.jsonl", bad.getBytes()));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).get("error").get("message").asString())
        .contains("line 3")
        .contains("not valid JSON");

    HttpResponse<String> arr =
        upload("/v1/files", TestGateway.KEY, form("batch", "a.jsonl", "[1,2]\n".getBytes()));
    assertThat(arr.statusCode()).isEqualTo(400);
    assertThat(json(arr).get("error").get("message").asString()).contains("line 1");

    // retrieval files are not JSON Lines: any non-empty content goes
    assertThat(
            upload("/v1/files", TestGateway.KEY, form("retrieval", "img.png", binary)).statusCode())
        .isEqualTo(200);
  }

  @Test
  void filesOverTheLimitAre413() throws Exception {
    byte[] big = new byte[1024 * 1024 + 10];
    java.util.Arrays.fill(big, (byte) 'x');
    HttpResponse<String> r =
        upload("/v1/files", TestGateway.KEY, form("retrieval", "big.txt", big), false);
    assertThat(r.statusCode()).isEqualTo(413);
    HttpResponse<String> chunked =
        upload("/api/paas/v4/files", TestGateway.KEY, form("retrieval", "big.txt", big), true);
    assertThat(chunked.statusCode()).as(chunked.body()).isEqualTo(413);
    // just under the limit is fine
    byte[] ok = new byte[1024 * 1024];
    java.util.Arrays.fill(ok, (byte) 'x');
    HttpResponse<String> fits =
        upload("/v1/files", TestGateway.KEY, form("retrieval", "ok.txt", ok), true);
    assertThat(fits.statusCode()).as(fits.body()).isEqualTo(200);
    assertThat(json(fits).get("bytes").asLong()).isEqualTo(ok.length);
  }

  @Test
  void malformedUploadsNameTheField() throws Exception {
    HttpResponse<String> purpose =
        upload("/v1/files", TestGateway.KEY, form("fine-tune", "x.jsonl", JSONL.getBytes()));
    assertThat(purpose.statusCode()).isEqualTo(400);
    assertThat(json(purpose).get("error").get("param").asString()).isEqualTo("purpose");

    HttpResponse<String> noPurpose =
        upload("/v1/files", TestGateway.KEY, form(null, "x.jsonl", JSONL.getBytes()));
    assertThat(json(noPurpose).get("error").get("param").asString()).isEqualTo("purpose");

    HttpResponse<String> noFile = upload("/v1/files", TestGateway.KEY, form("batch", null, null));
    assertThat(noFile.statusCode()).isEqualTo(400);
    assertThat(json(noFile).get("error").get("param").asString()).isEqualTo("file");

    HttpResponse<String> extra =
        upload(
            "/v1/files",
            TestGateway.KEY,
            form("batch", "x.jsonl", JSONL.getBytes(), "expires_after", "3600"));
    assertThat(extra.statusCode()).isEqualTo(400);
    assertThat(json(extra).get("error").get("param").asString()).isEqualTo("expires_after");

    HttpResponse<String> asJson = G.post("/v1/files", TestGateway.KEY, "{\"purpose\":\"batch\"}");
    assertThat(asJson.statusCode()).isEqualTo(400);
    assertThat(json(asJson).get("error").get("message").asString()).contains("multipart");

    HttpResponse<String> path =
        upload("/v1/files", TestGateway.KEY, form("batch", "../../etc/in.jsonl", JSONL.getBytes()));
    assertThat(json(path).get("filename").asString()).isEqualTo("in.jsonl");

    assertThat(G.get("/v1/files/..%2F..%2Fx", TestGateway.KEY).statusCode()).isEqualTo(404);
    assertThat(G.post("/v1/files/file-abc", TestGateway.KEY, "{}").statusCode()).isEqualTo(405);
  }
}
