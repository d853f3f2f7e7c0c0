package org.glmmaas.gateway.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
import org.glmmaas.gateway.support.FakeAuthService;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.auth.v1.Principal;
import org.glmmaas.proto.auth.v1.TenantStatus;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 18's overdraft check, end to end: the real billing-service (its own JVM, its embedded
 * PostgreSQL) reading usage from a real Kafka broker, this gateway, and a worker that — like the
 * real one — generates to the end of the context when a request carries no max_tokens and publishes
 * each finished request's usage to Kafka. A tenant whose balance covers 2,000 tokens sends 20
 * concurrent calls without max_tokens; its balance must never go below zero.
 *
 * <p>Needs the billing-service jar ({@code ./mvnw -pl billing-service -am package -DskipTests}, or
 * any full build: billing-service is built before the gateway); skipped without it.
 */
class OverdraftTest {

  static final String ADMIN = "overdraft-test-admin-token-5f1c0e9a";
  static final String TENANT = "t-overdraft";
  static final JsonMapper JSON = JsonMapper.builder().build();

  private final HttpClient http = HttpClient.newHttpClient();

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

  private HttpResponse<String> admin(String method, String url, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + ADMIN)
            .header("Content-Type", "application/json");
    b = body == null ? b.GET() : b.method(method, HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode balance(int billingHttp) throws Exception {
    HttpResponse<String> r =
        admin(
            "GET",
            "http://127.0.0.1:" + billingHttp + "/admin/v1/accounts/" + TENANT + "/balance",
            null);
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void twentyConcurrentCallsWithoutMaxTokensNeverOverdrawTheBalance() throws Exception {
    Path jar = billingJar();
    assumeTrue(jar != null, "billing-service jar not built");
    EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1);
    kafka.afterPropertiesSet();
    kafka.addTopics(
        new NewTopic("glm.usage.v1", 3, (short) 1),
        new NewTopic("glm.usage.v1.dlt", 1, (short) 1),
        new NewTopic("glm.account-status.v1", 1, (short) 1));
    int billingHttp = freePort();
    int billingGrpc = freePort();
    Path work = Path.of("target", "overdraft-" + UUID.randomUUID()).toAbsolutePath();
    Files.createDirectories(work);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process billing =
        new ProcessBuilder(
                java,
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
    ConfigurableApplicationContext gateway = null;
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
      String key =
          auth.addKey(
              "kod",
              "s3cretoverdraft",
              Principal.newBuilder()
                  .setTenantId(TENANT)
                  .setTenantStatus(TenantStatus.ACTIVE)
                  .setCacheTtlMs(60_000));
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

      long until = System.nanoTime() + Duration.ofSeconds(180).toNanos();
      while (true) {
        assertThat(billing.isAlive()).as("billing-service exited; see " + work).isTrue();
        try {
          HttpResponse<String> r =
              admin(
                  "POST",
                  "http://127.0.0.1:" + billingHttp + "/admin/v1/accounts/" + TENANT + "/top-ups",
                  "{\"amount_micros\":2000}");
          if (r.statusCode() == 200) {
            break;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
        assertThat(System.nanoTime()).as("billing-service never came up").isLessThan(until);
        Thread.sleep(250);
      }
      assertThat(balance(billingHttp).get("balance_micros").asLong()).isEqualTo(2000);

      gateway =
          new SpringApplicationBuilder(GatewayApplication.class)
              .run(
                  "--server.port=0",
                  "--glm.gateway.workers=127.0.0.1:" + worker.port(),
                  "--glm.gateway.auth.address=" + auth.address(),
                  "--glm.gateway.billing.address=127.0.0.1:" + billingGrpc,
                  "--glm.gateway.data-dir=" + work.resolve("gateway"),
                  "--glm.gateway.admin.token=overdraft-gateway-admin-token-01234",
                  "--logging.structured.format.console=",
                  "--spring.main.banner-mode=off");
      int port = Integer.parseInt(gateway.getEnvironment().getProperty("local.server.port"));
      String body =
          "{\"model\":\"glm-4-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
      // the worker is known (its context length too) before the calls go out
      long seen = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (gateway.getBean(org.glmmaas.gateway.routing.WorkerPicker.class).workers().stream()
              .noneMatch(w -> w.modelInfo() != null)
          && System.nanoTime() < seen) {
        Thread.sleep(50);
      }

      ExecutorService pool = Executors.newFixedThreadPool(20);
      List<Future<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        calls.add(
            pool.submit(
                () ->
                    http.send(
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
        lowest = Math.min(lowest, balance(billingHttp).get("balance_micros").asLong());
      }
      pool.shutdown();
      assertThat(ok).as("calls served").isGreaterThanOrEqualTo(1);
      // every served call's usage is billed and its hold settled
      long settle = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      JsonNode b = balance(billingHttp);
      while ((b.get("reserved_micros").asLong() != 0 || b.get("balance_micros").asLong() == 2000)
          && System.nanoTime() < settle) {
        lowest = Math.min(lowest, b.get("balance_micros").asLong());
        Thread.sleep(100);
        b = balance(billingHttp);
      }
      assertThat(b.get("reserved_micros").asLong()).as("holds settled").isZero();
      lowest = Math.min(lowest, b.get("balance_micros").asLong());
      assertThat(b.get("balance_micros").asLong()).as("balance billed").isLessThan(2000);
      assertThat(lowest).as("lowest balance seen").isGreaterThanOrEqualTo(0);
    } finally {
      if (gateway != null) {
        gateway.close();
      }
      producer.close(Duration.ofSeconds(5));
      billing.destroy();
      if (!billing.waitFor(60, TimeUnit.SECONDS)) {
        billing.destroyForcibly();
      }
      kafka.destroy();
    }
  }
}
