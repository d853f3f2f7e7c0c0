package org.glmmaas.gateway.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
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
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 18's money checks, end to end against the real billing-service (its own JVM, its embedded
 * PostgreSQL) reading usage from a real Kafka broker, and this gateway:
 *
 * <ul>
 *   <li>overdraft: a worker that — like the real one — generates to the end of the context when a
 *       request carries no max_tokens and publishes each finished request's usage; a tenant whose
 *       balance covers 2,000 tokens sends 20 concurrent calls without max_tokens; its balance must
 *       never go below zero;
 *   <li>the same for embeddings (issue 22): their inputs' upper bound is held before the worker
 *       runs;
 *   <li>a worker process killed with {@code kill -9} mid-stream: the tokens the client received are
 *       billed (the gateway's fallback usage event) and the hold is settled.
 * </ul>
 *
 * <p>Needs the billing-service jar ({@code ./mvnw -pl billing-service -am package -DskipTests}, or
 * any full build: billing-service is built before the gateway); skipped without it.
 */
class BillingEndToEndTest {

  static final String ADMIN = "end-to-end-test-admin-token-5f1c0e9a";
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static EmbeddedKafkaKraftBroker kafka;
  static Process billing;
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

  @BeforeAll
  static void start() throws Exception {
    Path jar = billingJar();
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
    work = Path.of("target", "billing-e2e-" + UUID.randomUUID()).toAbsolutePath();
    Files.createDirectories(work);
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
                // 1 micro-unit per token in and out: the balance counts tokens
                "--glm.billing.default-price.input-micros-per-mtok=1000000",
                "--glm.billing.default-price.cached-input-micros-per-mtok=1000000",
                "--glm.billing.default-price.output-micros-per-mtok=1000000")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("billing.log").toFile())
            .start();
    long until = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (true) {
      assertThat(billing.isAlive()).as("billing-service exited; see " + work).isTrue();
      try {
        if (admin("GET", "/admin/v1/accounts/t-probe/balance", null).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      assertThat(System.nanoTime()).as("billing-service never came up").isLessThan(until);
      Thread.sleep(250);
    }
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

  static HttpResponse<String> admin(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billingHttp + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + ADMIN)
            .header("Content-Type", "application/json");
    b = body == null ? b.GET() : b.method(method, HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode balance(String tenant) throws Exception {
    HttpResponse<String> r = admin("GET", "/admin/v1/accounts/" + tenant + "/balance", null);
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  static void topUp(String tenant, long micros) throws Exception {
    HttpResponse<String> r =
        admin(
            "POST",
            "/admin/v1/accounts/" + tenant + "/top-ups",
            "{\"amount_micros\":" + micros + "}");
    assertThat(r.statusCode()).isEqualTo(200);
  }

  static ConfigurableApplicationContext gateway(String workerAddress, String authAddress)
      throws Exception {
    ConfigurableApplicationContext gw =
        new SpringApplicationBuilder(GatewayApplication.class)
            .initializers(org.glmmaas.gateway.support.TestGateway.ownNettyLoops())
            .run(
                "--server.port=0",
                "--glm.gateway.workers=" + workerAddress,
                "--glm.gateway.auth.address=" + authAddress,
                "--glm.gateway.billing.address=127.0.0.1:" + billingGrpc,
                "--glm.gateway.data-dir=" + work.resolve("gateway-" + UUID.randomUUID()),
                "--glm.gateway.admin.token=end-to-end-gateway-admin-token-01234",
                "--spring.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--logging.structured.format.console=",
                "--spring.main.banner-mode=off");
    // the worker is known (its context length too) before calls go out
    long seen = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (gw.getBean(WorkerPicker.class).workers().stream().noneMatch(w -> w.modelInfo() != null)
        && System.nanoTime() < seen) {
      Thread.sleep(50);
    }
    return gw;
  }

  static int port(ConfigurableApplicationContext gw) {
    return Integer.parseInt(gw.getEnvironment().getProperty("local.server.port"));
  }

  static Principal.Builder principal(String tenant) {
    return Principal.newBuilder()
        .setTenantId(tenant)
        .setTenantStatus(TenantStatus.ACTIVE)
        .setCacheTtlMs(60_000);
  }

  @Test
  void twentyConcurrentCallsWithoutMaxTokensNeverOverdrawTheBalance() throws Exception {
    String tenant = "t-overdraft-" + UUID.randomUUID();
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.getBrokersAsString(),
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new StringSerializer(),
            new ByteArraySerializer());
    try (FakeAuthService auth = new FakeAuthService();
        FakeWorker worker = new FakeWorker("fake-worker-overdraft", "glm-4-flash")) {
      String key = auth.addKey("kod", "s3cretoverdraft", principal(tenant));
      worker.generatesToTheLimit = true;
      worker.usage =
          e -> {
            try {
              producer
                  .send(new ProducerRecord<>("glm.usage.v1", e.getTenantId(), e.toByteArray()))
                  .get();
            } catch (Exception x) {
              throw new IllegalStateException(x);
            }
          };
      topUp(tenant, 2000);
      assertThat(balance(tenant).get("balance_micros").asLong()).isEqualTo(2000);
      ConfigurableApplicationContext gateway =
          gateway("127.0.0.1:" + worker.port(), auth.address());
      int port = port(gateway);
      String body =
          "{\"model\":\"glm-4-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
      ExecutorService pool = Executors.newFixedThreadPool(20);
      List<Future<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        calls.add(
            pool.submit(
                () ->
                    HTTP.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                            .timeout(Duration.ofSeconds(60))
                            .header("Authorization", "Bearer " + key)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                        HttpResponse.BodyHandlers.ofString())));
      }
      long lowest = Long.MAX_VALUE;
      int ok = 0;
      for (Future<HttpResponse<String>> f : calls) {
        HttpResponse<String> r = f.get(90, TimeUnit.SECONDS);
        if (r.statusCode() == 200) {
          ok++;
        } else {
          // refused for the balance, nothing else
          assertThat(r.body()).containsIgnoringCase("balance");
        }
        lowest = Math.min(lowest, balance(tenant).get("balance_micros").asLong());
      }
      pool.shutdown();
      assertThat(ok).as("calls served").isGreaterThanOrEqualTo(1);
      // every served call's usage is billed and its hold settled
      long settle = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      JsonNode b = balance(tenant);
      while ((b.get("reserved_micros").asLong() != 0 || b.get("balance_micros").asLong() == 2000)
          && System.nanoTime() < settle) {
        lowest = Math.min(lowest, b.get("balance_micros").asLong());
        Thread.sleep(100);
        b = balance(tenant);
      }
      assertThat(b.get("reserved_micros").asLong()).as("holds settled").isZero();
      lowest = Math.min(lowest, b.get("balance_micros").asLong());
      assertThat(b.get("balance_micros").asLong()).as("balance billed").isLessThan(2000);
      assertThat(lowest).as("lowest balance seen").isGreaterThanOrEqualTo(0);
    } finally {
      // the gateway is left running, not closed: closing a second WebFlux context disposes
      // Reactor Netty's global event loops, which the shared TestGateway of the other test
      // classes in this JVM runs on (it ends with the JVM)
      producer.close(Duration.ofSeconds(5));
    }
  }

  /**
   * Issue 22: embeddings reserve their inputs' tokens counted high (UTF-8 bytes + 2) before the
   * worker runs, so a tenant's balance never goes below zero. Balance 100 (1 micro-unit per token);
   * each call's 60-byte input is bounded at 62 tokens and the worker bills 17 (2 + bytes / 4): at
   * most 5 calls could be paid for, 8 go out one after another; without the hold all 8 run and the
   * balance ends at 100 - 8 * 17 = -36.
   */
  @Test
  void embeddingCallsReserveTheirUpperBoundAndNeverOverdrawTheBalance() throws Exception {
    String tenant = "t-embed-overdraft-" + UUID.randomUUID();
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.getBrokersAsString(),
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new StringSerializer(),
            new ByteArraySerializer());
    try (FakeAuthService auth = new FakeAuthService();
        FakeWorker worker = new FakeWorker("fake-embed-worker-overdraft", "embed-e2e")) {
      worker.kind = "embedding";
      worker.embeddingDimensions = 8;
      worker.contextLength = 512;
      String key = auth.addKey("keod", "s3cretembedoverdraft", principal(tenant));
      worker.usage =
          e -> {
            try {
              producer
                  .send(new ProducerRecord<>("glm.usage.v1", e.getTenantId(), e.toByteArray()))
                  .get();
            } catch (Exception x) {
              throw new IllegalStateException(x);
            }
          };
      topUp(tenant, 100);
      ConfigurableApplicationContext gateway =
          gateway("127.0.0.1:" + worker.port(), auth.address());
      int port = port(gateway);
      String body = "{\"model\":\"embed-e2e\",\"input\":\"" + "e".repeat(60) + "\"}";
      long lowest = Long.MAX_VALUE;
      int ok = 0;
      int refused = 0;
      for (int i = 0; i < 8; i++) {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/embeddings"))
                    .timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + key)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          ok++;
        } else {
          refused++;
          assertThat(r.body()).as("refused for the balance, nothing else").contains("balance");
          assertThat(JSON.readTree(r.body()).at("/error/type").asString())
              .isEqualTo("insufficient_quota");
        }
        lowest = Math.min(lowest, balance(tenant).get("balance_micros").asLong());
      }
      assertThat(ok).as("calls served").isBetween(1, 5);
      assertThat(refused).as("calls refused").isGreaterThanOrEqualTo(3);
      // every served call's usage is billed (17 tokens) and its hold settled
      long settle = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      JsonNode b = balance(tenant);
      while ((b.get("reserved_micros").asLong() != 0
              || b.get("balance_micros").asLong() != 100 - 17L * ok)
          && System.nanoTime() < settle) {
        lowest = Math.min(lowest, b.get("balance_micros").asLong());
        Thread.sleep(100);
        b = balance(tenant);
      }
      assertThat(b.get("reserved_micros").asLong()).as("holds settled").isZero();
      assertThat(b.get("balance_micros").asLong()).as("balance billed").isEqualTo(100 - 17L * ok);
      lowest = Math.min(lowest, b.get("balance_micros").asLong());
      assertThat(lowest).as("lowest balance seen").isGreaterThanOrEqualTo(0);
    } finally {
      // the gateway is left running (see the chat overdraft test)
      producer.close(Duration.ofSeconds(5));
    }
  }

  @Test
  void aWorkerKilledMidStreamStillBillsTheTokensTheClientReceived() throws Exception {
    String tenant = "t-killed-" + UUID.randomUUID();
    int workerPort = freePort();
    Process worker =
        new ProcessBuilder(
                java(),
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                FakeWorkerProcess.class.getName(),
                String.valueOf(workerPort),
                "glm-4-flash")
            .redirectErrorStream(true)
            .start();
    try (FakeAuthService auth = new FakeAuthService()) {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = out.readLine()) != null && !line.startsWith("READY")) {
        // startup output
      }
      assertThat(line).as("worker process started").startsWith("READY");
      String key = auth.addKey("kkilled", "s3cretkilled", principal(tenant));
      topUp(tenant, 1_000_000);
      ConfigurableApplicationContext gateway = gateway("127.0.0.1:" + workerPort, auth.address());
      HttpResponse<Stream<String>> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port(gateway) + "/v1/chat/completions"))
                  .timeout(Duration.ofSeconds(60))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"model\":\"glm-4-flash\",\"stream\":true,\"messages\":[{\"role\":"
                              + "\"user\",\"content\":\"[slow] tell me more\"}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofLines());
      assertThat(r.statusCode()).isEqualTo(200);
      int chunks = 0;
      boolean killed = false;
      boolean sawError = false;
      for (Iterator<String> it = r.body().iterator(); it.hasNext(); ) {
        String l = it.next();
        if (l.contains("\"content\"")) {
          chunks++;
        }
        if (l.contains("\"error\"")) {
          sawError = true;
        }
        if (chunks == 10 && !killed) {
          worker.destroyForcibly(); // SIGKILL: no goodbye, no usage event from the worker
          killed = true;
        }
      }
      assertThat(killed).isTrue();
      assertThat(sawError).as("the client is told the stream broke").isTrue();
      // the gateway bills what it forwarded: at least the chunks the client saw
      String today = LocalDate.now(ZoneOffset.UTC).toString();
      long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      JsonNode rows = JSON.createArrayNode();
      while (System.nanoTime() < until) {
        HttpResponse<String> u =
            admin(
                "GET",
                "/admin/v1/accounts/" + tenant + "/usage?from=" + today + "&to=" + today,
                null);
        rows = JSON.readTree(u.body()).get("rows");
        if (rows.size() > 0) {
          break;
        }
        Thread.sleep(200);
      }
      assertThat(rows.size()).as("usage billed").isEqualTo(1);
      assertThat(rows.get(0).get("requests").asLong()).isEqualTo(1);
      assertThat(rows.get(0).get("completion_tokens").asLong()).isGreaterThanOrEqualTo(chunks);
      assertThat(rows.get(0).get("completion_tokens").asLong()).isLessThan(200);
      JsonNode b = balance(tenant);
      assertThat(b.get("reserved_micros").asLong()).as("hold settled").isZero();
      assertThat(b.get("balance_micros").asLong()).isLessThan(1_000_000);
    } finally {
      worker.destroyForcibly(); // the gateway is left running (see above)
    }
  }
}
