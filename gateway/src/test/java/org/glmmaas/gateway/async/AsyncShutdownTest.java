package org.glmmaas.gateway.async;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.glmmaas.gateway.GatewayApplication;
import org.glmmaas.gateway.error.Json;
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.gateway.support.TestGateway;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.auth.v1.TenantStatus;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A gateway that shuts down with async generations running: one that ends within the shutdown grace
 * is finished and stored SUCCESS; one that cannot is cancelled and stored FAIL, so the client
 * polling the result sees an ending. Before: the context closed at once, the generations were cut
 * with it, and a task could read PROCESSING until it went stale (the request timeout + 1 min).
 */
class AsyncShutdownTest {

  @Test
  void asyncGenerationsAreDrainedWithinTheGraceAndTheRestEndAsFail() throws Exception {
    FakeWorker worker = new FakeWorker("shutdown-worker", TestGateway.MODEL);
    FakeAuthService auth = new FakeAuthService();
    auth.addKey(
        "kshut",
        "s3cretshut",
        Principal.newBuilder()
            .setTenantId("tshut")
            .setTenantStatus(TenantStatus.ACTIVE)
            .setCacheTtlMs(60_000));
    Path data = Path.of("target", "test-data", UUID.randomUUID().toString()).toAbsolutePath();
    ConfigurableApplicationContext gw =
        new SpringApplicationBuilder(GatewayApplication.class)
            .initializers(org.glmmaas.gateway.support.TestGateway.ownNettyLoops())
            .run(
                "--server.port=0",
                "--glm.gateway.workers=127.0.0.1:" + worker.port(),
                "--glm.gateway.auth.address=" + auth.address(),
                "--glm.gateway.billing.address=",
                "--glm.gateway.data-dir=" + data,
                "--spring.lifecycle.timeout-per-shutdown-phase=4s",
                "--logging.structured.format.console=",
                "--spring.main.banner-mode=off");
    try {
      int port = Integer.parseInt(gw.getEnvironment().getProperty("local.server.port"));
      HttpClient http = HttpClient.newHttpClient();
      awaitWorker(http, port);
      String quick = submit(http, port, "[short-slow]"); // 1.5 s of tokens: ends within 4 s
      String slow = submit(http, port, "[slow]"); // 10 s of tokens: cannot
      FileAsyncTaskStore store =
          new FileAsyncTaskStore(data, Duration.ofHours(1), Clock.systemUTC());
      assertThat(store.get("tshut", quick).block().status()).isEqualTo("PROCESSING");
      assertThat(store.get("tshut", slow).block().status()).isEqualTo("PROCESSING");

      long t0 = System.nanoTime();
      gw.close();
      double secs = (System.nanoTime() - t0) / 1e9;
      assertThat(secs).as("shutdown within the 4 s phase (+ the rest of the close)").isLessThan(9);

      AsyncTask q = store.get("tshut", quick).block();
      assertThat(q.status()).as("the short task, finished during the drain").isEqualTo("SUCCESS");
      assertThat(q.result().get("choices").get(0).get("message").get("content").asString())
          .isNotEmpty();
      AsyncTask s = store.get("tshut", slow).block();
      assertThat(s.status()).as("the long task, cut at the end of the grace").isEqualTo("FAIL");
      assertThat(s.result().toString()).contains("shut down before this task finished");
      // the cut generation was cancelled on the worker (its KV blocks freed), not left running
      long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (worker.cancellations.get() < 1 && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      assertThat(worker.cancellations.get()).isPositive();
    } finally {
      if (gw.isActive()) {
        gw.close();
      }
      worker.close();
      auth.close();
    }
  }

  private static void awaitWorker(HttpClient http, int port) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/api/paas/v4/chat/completions"))
                  .header("Authorization", "Bearer kshut.s3cretshut")
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(TestGateway.chat("hi", null)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        return;
      }
      assertThat(System.nanoTime()).as("the gateway never saw its worker").isLessThan(end);
      Thread.sleep(100);
    }
  }

  private static String submit(HttpClient http, int port, String content) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/api/paas/v4/async/chat/completions"))
                .header("Authorization", "Bearer kshut.s3cretshut")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(TestGateway.chat(content, null)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode n = Json.MAPPER.readTree(r.body());
    assertThat(n.get("task_status").asString()).isEqualTo("PROCESSING");
    return n.get("id").asString();
  }
}
