package org.glmmaas.gateway.async;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.gateway.support.TestGateway;
import org.junit.jupiter.api.Test;

/**
 * An async call whose task cannot be stored is refused with 503 and gives its lease and holds back
 * (before: a 500, and the key's concurrency lease stayed taken until its TTL).
 */
class AsyncStoreFailureTest {

  @Test
  void aFailedStoreIsA503AndReleasesTheLease() throws Exception {
    TestGateway gw = TestGateway.get();
    Path dataDir = Path.of(gw.context.getEnvironment().getProperty("glm.gateway.data-dir"));
    // the tenant's folder of the file store is a plain file: writing the task fails
    Path blocker = dataDir.resolve("async").resolve(FileAsyncTaskStore.hash("tconc"));
    Files.createDirectories(blocker.getParent());
    Files.writeString(blocker, "not a folder");
    try {
      HttpResponse<String> r =
          gw.post(
              "/api/paas/v4/async/chat/completions",
              TestGateway.CONC_KEY,
              TestGateway.chat("hi", null));
      assertThat(r.statusCode()).isEqualTo(503);
    } finally {
      Files.delete(blocker);
    }
    // the key allows one call at a time: the refused call's lease is back
    HttpResponse<String> next =
        gw.post("/v1/chat/completions", TestGateway.CONC_KEY, TestGateway.chat("hi", null));
    assertThat(next.statusCode()).isEqualTo(200);
  }
}
