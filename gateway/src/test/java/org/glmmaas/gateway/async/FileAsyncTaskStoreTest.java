package org.glmmaas.gateway.async;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.gateway.error.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAsyncTaskStoreTest {

  @TempDir Path dir;

  @Test
  void tasksSurviveARestartAndStayWithTheirTenant() throws Exception {
    AsyncTask t = new AsyncTask("abc123", "req-1", "tenant-a", "glm-4-flash", "PROCESSING",
        System.currentTimeMillis(), null);
    new FileAsyncTaskStore(dir).put(t).block();
    var done = Json.object();
    done.putArray("choices").addObject().put("index", 0);
    new FileAsyncTaskStore(dir).put(t.finish("SUCCESS", done)).block();

    FileAsyncTaskStore afterRestart = new FileAsyncTaskStore(dir);
    AsyncTask read = afterRestart.get("tenant-a", "abc123").block();
    assertThat(read.status()).isEqualTo("SUCCESS");
    assertThat(read.result().at("/choices/0/index").asInt()).isZero();
    assertThat(afterRestart.get("tenant-b", "abc123").block()).isNull();
    try (var files = Files.walk(dir)) {
      assertThat(files.filter(f -> f.toString().contains(".tmp-"))).isEmpty();
    }
  }
}
