package org.glmmaas.gateway.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.glmmaas.gateway.GatewayApplication;
import org.glmmaas.gateway.routing.WorkerPicker;
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.gateway.support.FakeWorkerProcess;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.auth.v1.TenantStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A 1,000-line batch through real services: a real Kafka broker, the real billing-service (its jar,
 * its embedded PostgreSQL ledger), the gateway in this JVM and two fake workers, one of them a
 * process of its own. Midway the worker process is killed with {@code kill -9}, billing-service is
 * stopped and started again, and the gateway itself is closed and started again on the same data
 * folder: every line is in the output exactly once, and the ledger holds exactly 1,000 requests,
 * billed at the batch price.
 *
 * <p>Needs the billing-service jar ({@code ./mvnw -pl billing-service -am package -DskipTests}, or
 * any full build); skipped without it.
 */
class BatchEndToEndTest {

  static final String ADMIN = "batch-e2e-test-admin-token-8d2f51aa";
  static final String MODEL = "glm-4-flash";
  static final int LINES = 1000;
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static EmbeddedKafkaKraftBroker kafka;
  static Process billing;
  static Path jar;
  static int billingHttp;
  static int billingGrpc;
  static Path work;

  static Path billingJar() throws IOException {
    Path target = Path.of("..", "billing-service", "target");
    if (!Files.isDirectory(target)) {
      return null;
    }
    try (Stream<Path> files = Files.list(target)) {
      return files
          .filter(
              p -> {
                String n = p.getFileName().toString();
                return n.startsWith("billing-service-")
                    && n.endsWith(".jar")
                    && !n.endsWith("-plain.jar")
                    && !n.endsWith("-sources.jar")
                    && !n.endsWith("-tests.jar");
              })
          .findFirst()
          .orElse(null);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static void startBilling() throws Exception {
    billing =
        new ProcessBuilder(
                java(),
                "-Xmx384m",
                "-jar",
                jar.toAbsolutePath().toString(),
                "--server.port=" + billingHttp,
                "--server.address=127.0.0.1",
                "--glm.billing.grpc.port=" + billingGrpc,
                "--glm.billing.admin-token=" + ADMIN,
                "--glm.embedded-db.dir=" + work.resolve("db"),
                "--spring.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--spring.kafka.consumer.properties.fetch.max.wait.ms=100",
                // 1 CNY per million tokens in and out: a batch token costs half a micro-unit
                "--glm.billing.default-price.input-micros-per-mtok=1000000",
                "--glm.billing.default-price.cached-input-micros-per-mtok=1000000",
                "--glm.billing.default-price.output-micros-per-mtok=1000000")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("billing.log").toFile()))
            .start();
    long until = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (true) {
      assertThat(billing.isAlive()).as("billing-service exited; see " + work).isTrue();
      try {
        if (admin("/admin/v1/accounts/t-probe/balance", null).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      assertThat(System.nanoTime()).as("billing-service never came up").isLessThan(until);
      Thread.sleep(250);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    jar = billingJar();
    assumeTrue(jar != null, "billing-service jar not built");
    kafka = new EmbeddedKafkaKraftBroker(1, 1);
    kafka.afterPropertiesSet();
    kafka.addTopics(
        new NewTopic("glm.usage.v1", 3, (short) 1),
        new NewTopic("glm.usage.v1.dlt", 1, (short) 1),
        new NewTopic("glm.account-status.v1", 1, (short) 1),
        new NewTopic("glm.key-events.v1", 1, (short) 1));
    billingHttp = freePort();
    billingGrpc = freePort();
    work = Path.of("target", "batch-e2e-" + UUID.randomUUID()).toAbsolutePath();
    Files.createDirectories(work);
    startBilling();
  }

  @AfterAll
  static void stop() throws Exception {
    if (billing != null) {
      billing.destroy();
      if (!billing.waitFor(60, TimeUnit.SECONDS)) {
        billing.destroyForcibly();
      }
    }
    if (kafka != null) {
      kafka.destroy();
      // the embedded broker publishes itself in spring.kafka.bootstrap-servers and leaves it:
      // a gateway a later test starts in this JVM must not inherit a dead Kafka
      System.clearProperty("spring.kafka.bootstrap-servers");
    }
  }

  static HttpResponse<String> admin(String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billingHttp + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + ADMIN)
            .header("Content-Type", "application/json");
    b = body == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static ConfigurableApplicationContext gateway(String workers, String auth, Path data)
      throws Exception {
    ConfigurableApplicationContext gw =
        new SpringApplicationBuilder(GatewayApplication.class)
            .initializers(org.glmmaas.gateway.support.TestGateway.ownNettyLoops())
            .run(
                "--server.port=0",
                "--glm.gateway.workers=" + workers,
                "--glm.gateway.auth.address=" + auth,
                "--glm.gateway.billing.address=127.0.0.1:" + billingGrpc,
                "--glm.gateway.data-dir=" + data,
                "--glm.gateway.batch.per-worker-in-flight=8",
                "--glm.gateway.batch.sweep-interval=1s",
                "--glm.gateway.admin.token=batch-e2e-gateway-admin-token-0123",
                "--spring.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--logging.structured.format.console=",
                "--logging.level.org.glmmaas.gateway.batch=WARN",
                "--spring.main.banner-mode=off");
    long seen = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (gw.getBean(WorkerPicker.class).workers().stream().noneMatch(w -> w.modelInfo() != null)
        && System.nanoTime() < seen) {
      Thread.sleep(50);
    }
    return gw;
  }

  static HttpResponse<String> call(int port, String key, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + key);
    if (method.equals("GET")) {
      b.GET();
    } else {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static int completed(int port, String key, String id) throws Exception {
    return JSON.readTree(call(port, key, "GET", "/v1/batches/" + id, null).body())
        .get("request_counts")
        .get("completed")
        .asInt();
  }

  static void awaitCompleted(int port, String key, String id, int n) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (completed(port, key, id) < n) {
      assertThat(System.nanoTime()).as("batch never reached " + n + " lines").isLessThan(end);
      Thread.sleep(100);
    }
  }

  @Test
  @Timeout(value = 9, unit = TimeUnit.MINUTES)
  void aThousandLinesSurviveAKilledWorkerABillingRestartAndAGatewayRestartExactlyOnce()
      throws Exception {
    String tenant = "t-batch-e2e-" + UUID.randomUUID();
    int workerPort = freePort();
    Process doomed =
        new ProcessBuilder(
                java(),
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                FakeWorkerProcess.class.getName(),
                String.valueOf(workerPort),
                MODEL)
            .redirectErrorStream(true)
            .start();
    ConfigurableApplicationContext gw = null;
    try (FakeAuthService auth = new FakeAuthService();
        FakeWorker survivor = new FakeWorker("fake-batch-survivor", MODEL)) {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(doomed.getInputStream(), StandardCharsets.UTF_8));
      String l;
      while ((l = out.readLine()) != null && !l.startsWith("READY")) {
        // startup output
      }
      assertThat(l).as("worker process started").startsWith("READY");
      String key =
          auth.addKey(
              "kbe2e",
              "s3cretbatche2e",
              Principal.newBuilder()
                  .setTenantId(tenant)
                  .setTenantStatus(TenantStatus.ACTIVE)
                  .setCacheTtlMs(60_000));
      long topUp = 10_000_000;
      assertThat(
              admin(
                      "/admin/v1/accounts/" + tenant + "/top-ups",
                      "{\"amount_micros\":" + topUp + "}")
                  .statusCode())
          .isEqualTo(200);
      String workers = "127.0.0.1:" + workerPort + ",127.0.0.1:" + survivor.port();
      Path data = work.resolve("gateway-data");
      gw = gateway(workers, auth.address(), data);
      int port = Integer.parseInt(gw.getEnvironment().getProperty("local.server.port"));

      StringBuilder in = new StringBuilder();
      for (int i = 0; i < LINES; i++) {
        in.append(
            "{\"custom_id\":\"line-"
                + i
                + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\""
                + MODEL
                + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"n "
                + i
                + "\"}]}}\n");
      }
      String boundary = "----batchE2E";
      ByteArrayOutputStream form = new ByteArrayOutputStream();
      form.writeBytes(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n"
                  + in
                  + "\r\n--"
                  + boundary
                  + "--\r\n")
              .getBytes(StandardCharsets.UTF_8));
      HttpResponse<String> up =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/files"))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                  .POST(HttpRequest.BodyPublishers.ofByteArray(form.toByteArray()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
      String file = JSON.readTree(up.body()).get("id").asString();
      HttpResponse<String> c =
          call(
              port,
              key,
              "POST",
              "/v1/batches",
              "{\"input_file_id\":\""
                  + file
                  + "\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}");
      assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
      String id = JSON.readTree(c.body()).get("id").asString();

      awaitCompleted(port, key, id, 150);
      doomed.destroyForcibly(); // SIGKILL: lines running there never finish
      awaitCompleted(port, key, id, 350);
      billing.destroy(); // billing-service stops mid-batch (reservations fail, lines wait)
      billing.waitFor(60, TimeUnit.SECONDS);
      startBilling();
      awaitCompleted(port, key, id, 550);
      gw.close(); // the gateway goes too, lines in flight; a new one takes over the folder
      gw = gateway("127.0.0.1:" + survivor.port(), auth.address(), data);
      port = Integer.parseInt(gw.getEnvironment().getProperty("local.server.port"));

      JsonNode b = null;
      long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < end) {
        b = JSON.readTree(call(port, key, "GET", "/v1/batches/" + id, null).body());
        if (b.get("status").asString().equals("completed")) {
          break;
        }
        Thread.sleep(200);
      }
      assertThat(b.get("status").asString()).as(b.toString()).isEqualTo("completed");
      assertThat(b.get("request_counts").get("completed").asInt()).isEqualTo(LINES);
      assertThat(b.get("request_counts").get("failed").asInt()).isZero();
      String output =
          call(
                  port,
                  key,
                  "GET",
                  "/v1/files/" + b.get("output_file_id").asString() + "/content",
                  null)
              .body();
      Set<String> ids = new HashSet<>();
      long expectedCost = 0;
      int n = 0;
      for (String line : output.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        n++;
        JsonNode o = JSON.readTree(line);
        ids.add(o.get("custom_id").asString());
        JsonNode u = o.get("response").get("body").get("usage");
        // half of 1 micro-unit per token, rounded up per request
        expectedCost +=
            (u.get("prompt_tokens").asLong() + u.get("completion_tokens").asLong() + 1) / 2;
      }
      assertThat(n).as("output lines").isEqualTo(LINES);
      assertThat(ids).as("distinct custom_ids").hasSize(LINES);

      // the ledger: exactly 1,000 requests, at the batch price, the holds all settled
      String today = LocalDate.now(ZoneOffset.UTC).toString();
      long requests = 0;
      long cost = 0;
      long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (System.nanoTime() < until) {
        JsonNode rows =
            JSON.readTree(
                    admin(
                            "/admin/v1/accounts/"
                                + tenant
                                + "/usage?from="
                                + today
                                + "&to="
                                + today,
                            null)
                        .body())
                .get("rows");
        requests = 0;
        cost = 0;
        for (JsonNode r : rows) {
          requests += r.get("requests").asLong();
          cost += r.get("cost_micros").asLong();
        }
        if (requests >= LINES) {
          break;
        }
        Thread.sleep(250);
      }
      Thread.sleep(2000); // late duplicates, had there been any, would land now
      JsonNode rows =
          JSON.readTree(
                  admin(
                          "/admin/v1/accounts/" + tenant + "/usage?from=" + today + "&to=" + today,
                          null)
                      .body())
              .get("rows");
      requests = 0;
      cost = 0;
      for (JsonNode r : rows) {
        requests += r.get("requests").asLong();
        cost += r.get("cost_micros").asLong();
      }
      assertThat(requests).as("ledger requests").isEqualTo(LINES);
      assertThat(cost).as("ledger cost at the batch price").isEqualTo(expectedCost);
      JsonNode bal = JSON.readTree(admin("/admin/v1/accounts/" + tenant + "/balance", null).body());
      assertThat(bal.get("balance_micros").asLong()).isEqualTo(topUp - expectedCost);
    } finally {
      doomed.destroyForcibly();
      if (gw != null) {
        gw.close();
      }
    }
  }
}
