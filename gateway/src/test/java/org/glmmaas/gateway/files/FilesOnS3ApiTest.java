package org.glmmaas.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.support.FakeS3Server;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;

/**
 * A gateway configured with {@code glm.gateway.files.store=s3}: the Files API keeps uploads in the
 * bucket (FakeS3Server through the real AWS SDK), and a bucket that stops answering is a 503, not a
 * 500.
 */
@ExtendWith(OutputCaptureExtension.class)
class FilesOnS3ApiTest {

  static final String SECRET = "s3-secret-must-not-be-logged";
  static final String BOUNDARY = "----glmS3FilesBoundary";
  static FakeS3Server s3;
  static TestGateway gw;

  static String[] s3Args(String bucket) {
    return new String[] {
      "--glm.gateway.files.store=s3",
      "--glm.gateway.files.s3.endpoint=" + s3.endpoint(),
      "--glm.gateway.files.s3.bucket=" + bucket,
      "--glm.gateway.files.s3.path-style=true",
      "--glm.gateway.files.s3.prefix=gw",
      "--glm.gateway.files.s3.access-key=AKIAGW",
      "--glm.gateway.files.s3.secret-key=" + SECRET
    };
  }

  @BeforeAll
  static void start() throws Exception {
    s3 = new FakeS3Server("AKIAGW", "uploads");
    gw = TestGateway.startWith(s3Args("uploads"));
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    s3.close();
  }

  static byte[] form(String purpose, String filename, String content) {
    String crlf = "\r\n";
    return ("--"
            + BOUNDARY
            + crlf
            + "Content-Disposition: form-data; name=\"purpose\""
            + crlf
            + crlf
            + purpose
            + crlf
            + "--"
            + BOUNDARY
            + crlf
            + "Content-Disposition: form-data; name=\"file\"; filename=\""
            + filename
            + "\""
            + crlf
            + "Content-Type: application/octet-stream"
            + crlf
            + crlf
            + content
            + crlf
            + "--"
            + BOUNDARY
            + "--"
            + crlf)
        .getBytes(StandardCharsets.UTF_8);
  }

  static HttpResponse<String> send(String method, String path, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(gw.url(path)))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + TestGateway.KEY);
    if (body != null) {
      b.header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
          .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return gw.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void uploadsLiveInTheBucketAndAnUnreachableBucketIs503(CapturedOutput out) throws Exception {
    String jsonl = "{\"custom_id\":\"a\",\"url\":\"/v1/chat/completions\",\"body\":{}}\n";
    HttpResponse<String> up = send("POST", "/v1/files", form("batch", "in.jsonl", jsonl));
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    String id = Json.MAPPER.readTree(up.body()).get("id").asString();
    String dir = "uploads/gw/files/" + FolderFileStore.hash("tmain") + "/";
    assertThat(new String(s3.objects().get(dir + id + ".data").data(), StandardCharsets.UTF_8))
        .isEqualTo(jsonl);

    assertThat(send("GET", "/api/paas/v4/files/" + id + "/content", null).body()).isEqualTo(jsonl);
    JsonNode list = Json.MAPPER.readTree(send("GET", "/v1/files?purpose=batch", null).body());
    assertThat(list.get("data").get(0).get("id").asString()).isEqualTo(id);
    assertThat(list.get("data").size()).isEqualTo(1);

    HttpResponse<String> del = send("DELETE", "/v1/files/" + id, null);
    assertThat(del.statusCode()).isEqualTo(200);
    assertThat(s3.objects().keySet()).noneMatch(k -> k.contains(id));
    assertThat(send("GET", "/v1/files/" + id, null).statusCode()).isEqualTo(404);

    s3.stop();
    HttpResponse<String> down = send("GET", "/v1/files", null);
    assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
    assertThat(down.body()).contains("the file store is unavailable");
    HttpResponse<String> upDown = send("POST", "/v1/files", form("batch", "in.jsonl", jsonl));
    assertThat(upDown.statusCode()).as(upDown.body()).isEqualTo(503);

    assertThat(out.getAll()).contains("files are kept in S3[").doesNotContain(SECRET);
  }

  @Test
  void aGatewayWhoseBucketIsMissingDoesNotStart() throws Exception {
    try (FakeS3Server empty = new FakeS3Server("AKIAGW")) {
      FakeS3Server keep = s3;
      s3 = empty;
      try {
        assertThatThrownBy(() -> TestGateway.startWith(s3Args("missing-bucket")))
            .hasStackTraceContaining(
                "the file store's bucket 'missing-bucket' at "
                    + empty.endpoint()
                    + " does not exist: create it first");
      } finally {
        s3 = keep;
      }
    }
  }
}
