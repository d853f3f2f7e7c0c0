package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault/security suite of issue 18 on a real {@code ./glm up} (one data folder, two starts):
 *
 * <ol>
 *   <li>no process of the launcher's tree (nor its PostgreSQL) listens outside loopback;
 *   <li>a gRPC call without the platform's service identity is refused (UNAUTHENTICATED) by
 *       billing, the worker and auth;
 *   <li>20 concurrent calls without {@code max_tokens} from a tenant whose balance covers 2,000
 *       tokens never drive its balance below zero;
 *   <li>{@code kill -9} of the worker mid-stream: the tokens streamed are billed (the ledger's
 *       completion tokens and the balance move), and the launcher starts the worker again;
 *   <li>{@code kill -9} of the launcher: its services and PostgreSQL go away by themselves, and the
 *       next {@code ./glm up} on the same folder is READY on the first try with the same demo key;
 *   <li>Ctrl-C (SIGINT) stops everything within 10 s.
 * </ol>
 *
 * Before: Kafka listened on every interface; after {@code kill -9} the four service JVMs kept
 * running and PostgreSQL's postmaster.pid made the next start fail; Ctrl-C took 35 s.
 */
@DisabledIfSystemProperty(
    named = "glm.launcher.e2e",
    matches = "false",
    disabledReason = "end-to-end launcher test switched off with -Dglm.launcher.e2e=false")
class LauncherHardeningTest {

  @TempDir Path data;

  @Test
  void loopbackOnlyRecoversFromKillNineAndStopsWithinTenSeconds() throws Exception {
    assumeTrue(ProcListeners.available(), "needs Linux /proc");
    GlmUp first = GlmUp.start(data);
    Map<?, ?> endpoints;
    Set<Long> tree;
    long postgres;
    try {
      endpoints = first.awaitReady();
      tree = ProcListeners.tree(first.process.pid());
      postgres = Postgres.postmasterPid(data.resolve("postgres"));
      assertThat(tree).as("launcher + 4 services").hasSizeGreaterThanOrEqualTo(5);
      assertThat(postgres).isPositive();

      // 1. every listener on loopback: 4 HTTP + 3 gRPC + Kafka broker/controller + PostgreSQL
      Set<Long> pids = new HashSet<>(tree);
      pids.add(postgres);
      List<ProcListeners.Listener> listeners = ProcListeners.of(pids);
      assertThat(listeners).as("listeners of the tree").hasSizeGreaterThanOrEqualTo(10);
      assertThat(listeners.stream().filter(l -> !l.loopback()).toList())
          .as("listeners outside loopback among %s", listeners)
          .isEmpty();

      // 2. a gRPC call without the platform's service identity is refused by every service
      assertThat(
              callWithoutIdentity(
                  data, "billing-service", "glm.billing.v1.BillingService/GetBalance"))
          .isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(
              callWithoutIdentity(
                  data, "inference-worker", "glm.inference.v1.InferenceService/ListModels"))
          .isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(callWithoutIdentity(data, "auth-service", "glm.auth.v1.AuthService/Authenticate"))
          .isEqualTo(Status.Code.UNAUTHENTICATED);

      // 3. 20 concurrent calls without max_tokens on a balance that covers 2,000 tokens
      twentyCallsWithoutMaxTokensNeverOverdraw(endpoints);

      // 4. kill -9 of the worker mid-stream: the streamed tokens are billed; the worker comes back
      killingTheWorkerMidStreamBillsWhatWasStreamed(first.process.pid(), endpoints);
      tree = ProcListeners.tree(first.process.pid()); // the restarted worker has a new pid
    } catch (Throwable t) {
      first.kill(Duration.ofSeconds(30));
      throw t;
    }

    // 5. kill -9 of the launcher: the services and PostgreSQL follow it
    first.process.destroyForcibly();
    assertThat(first.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Set<Long> leftovers = new HashSet<>(tree);
    leftovers.add(postgres);
    leftovers.remove(first.process.pid());
    assertThat(awaitGone(leftovers, Duration.ofSeconds(15)))
        .as("processes still running 15 s after kill -9 of the launcher")
        .isEmpty();

    GlmUp second = GlmUp.start(data);
    try {
      Map<?, ?> again = second.awaitReady();
      assertThat(again.get("api_key")).as("same demo key").isEqualTo(endpoints.get("api_key"));
      assertThat(second.output()).doesNotContain("giving up", "Gave up");

      // 6. Ctrl-C: everything gone within 10 s
      Set<Long> all = ProcListeners.tree(second.process.pid());
      all.add(Postgres.postmasterPid(data.resolve("postgres")));
      long t0 = System.nanoTime();
      new ProcessBuilder("kill", "-INT", Long.toString(second.process.pid())).start().waitFor();
      Set<Long> still = awaitGone(all, Duration.ofSeconds(10));
      double secs = (System.nanoTime() - t0) / 1e9;
      assertThat(still).as("still running 10 s after Ctrl-C:%n%s", second.output()).isEmpty();
      System.out.printf("[hardening] Ctrl-C to everything stopped: %.1f s%n", secs);
      assertThat(second.process.exitValue()).isIn(0, 130);
    } finally {
      second.kill(Duration.ofSeconds(30));
    }
  }

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /**
   * A new tenant whose balance covers 2,000 output tokens sends 20 chat calls at once without
   * max_tokens. Each reservation (prompt + the default max_tokens, which is also sent to the
   * worker) must fit the balance, so the calls that run can never spend more than it holds: once
   * billing has settled everything, the balance is not below zero. Before the fix the worker
   * generated to the end of the context and the ledger charged it all.
   */
  private static void twentyCallsWithoutMaxTokensNeverOverdraw(Map<?, ?> endpoints)
      throws Exception {
    String model = (String) endpoints.get("model");
    AdminApi admin =
        new AdminApi(
            URI.create((String) endpoints.get("admin_url")),
            (String) endpoints.get("admin_token"),
            URI.create((String) endpoints.get("billing_admin_url")),
            (String) endpoints.get("billing_admin_token"));
    // a known price: 1 micro per input token, 2 per output token
    admin.putPrice(model, 1_000_000, 2_000_000);
    String tenant = admin.createTenant("hardening-overdraft");
    String key = admin.createKey(tenant, "overdraft test").apiKey();
    long topUp = 2_000 * 2; // 2,000 output tokens
    admin.topUp(tenant, topUp, "CNY");
    assertThat(((Number) billingBalance(endpoints, tenant).get("balance_micros")).longValue())
        .isEqualTo(topUp);

    String body =
        "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> calls =
        new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calls.add(
          HTTP.sendAsync(
              HttpRequest.newBuilder(
                      URI.create(endpoints.get("gateway_url") + "/v1/chat/completions"))
                  .timeout(Duration.ofMinutes(5))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    long completionTokens = 0;
    for (var c : calls) {
      HttpResponse<String> r = c.get(6, TimeUnit.MINUTES);
      statuses.merge(r.statusCode(), 1, Integer::sum);
      if (r.statusCode() == 200) {
        Map<?, ?> usage =
            (Map<?, ?>) LauncherState.JSON.readValue(r.body(), Map.class).get("usage");
        completionTokens += ((Number) usage.get("completion_tokens")).longValue();
      } else {
        assertThat(r.statusCode()).as("a refused call: %s", r.body()).isEqualTo(429);
      }
    }
    System.out.printf(
        "[hardening] 20 calls without max_tokens: statuses %s, %d completion tokens%n",
        statuses, completionTokens);
    assertThat(statuses.getOrDefault(200, 0)).as("calls that ran: %s", statuses).isPositive();
    // settled: no hold left, and every usage event priced
    Map<?, ?> b = billingBalance(endpoints, tenant);
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (((Number) b.get("reserved_micros")).longValue() != 0
        || ((Number) b.get("balance_micros")).longValue() == topUp) {
      assertThat(System.nanoTime()).as("billing settled: %s", b).isLessThan(deadline);
      Thread.sleep(500);
      b = billingBalance(endpoints, tenant);
    }
    Thread.sleep(2000); // a late usage event would still move it
    b = billingBalance(endpoints, tenant);
    System.out.printf("[hardening] after them: %s%n", b);
    assertThat(((Number) b.get("balance_micros")).longValue())
        .as("balance after 20 calls without max_tokens: %s", b)
        .isNotNegative()
        .isLessThan(topUp);
  }

  /**
   * Streams a long answer with the demo key, kills the real worker process (SIGKILL) after a few
   * content chunks, and checks that the ledger bills at least the completion tokens the client
   * received (the gateway's fallback usage: the dead worker never reports them), that the balance
   * drops, and that the launcher brings the worker back so the next call streams again.
   */
  private static void killingTheWorkerMidStreamBillsWhatWasStreamed(
      long launcherPid, Map<?, ?> endpoints) throws Exception {
    String model = (String) endpoints.get("model");
    String tenant = (String) endpoints.get("tenant_id");
    long completionBefore = completionTokensToday(endpoints, tenant, model);
    long balanceBefore =
        ((Number) billingBalance(endpoints, tenant).get("balance_micros")).longValue();
    ProcessHandle worker =
        ProcessHandle.of(launcherPid)
            .orElseThrow()
            .descendants()
            .filter(
                h ->
                    h.info()
                        .commandLine()
                        .orElse("")
                        .contains("--glm.worker.model-id=" + model + " "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no worker process serving " + model));
    String body =
        "{\"model\":\""
            + model
            + "\",\"stream\":true,\"max_tokens\":900,\"ignore_eos\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell a long story\"}]}";
    HttpResponse<java.util.stream.Stream<String>> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(endpoints.get("gateway_url") + "/v1/chat/completions"))
                .timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + endpoints.get("api_key"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    long contentChunks = 0;
    boolean killed = false;
    boolean finishedNormally = false;
    List<String> tail = new java.util.ArrayList<>();
    for (String line : (Iterable<String>) r.body()::iterator) {
      if (!line.startsWith("data:")) {
        continue;
      }
      tail.add(line);
      if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
        contentChunks++;
      }
      if (line.contains("\"finish_reason\":\"length\"")
          || line.contains("\"finish_reason\":\"stop\"")) {
        finishedNormally = true;
      }
      if (!killed && contentChunks >= 3) {
        worker.destroyForcibly(); // SIGKILL
        killed = true;
      }
    }
    assertThat(killed).as("3 content chunks before the end: %s", tail).isTrue();
    assertThat(finishedNormally)
        .as("the stream ended by the kill, not by the model: %s", tail)
        .isFalse();
    assertThat(worker.onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();
    System.out.printf(
        "[hardening] worker killed mid-stream after %d content chunks; stream ended with %s%n",
        contentChunks, tail.subList(Math.max(0, tail.size() - 2), tail.size()));

    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    long completionAfter = completionTokensToday(endpoints, tenant, model);
    while (completionAfter - completionBefore < contentChunks) {
      assertThat(System.nanoTime())
          .as(
              "the ledger's completion tokens for %s rose by %d, %d chunks were streamed",
              model, completionAfter - completionBefore, contentChunks)
          .isLessThan(deadline);
      Thread.sleep(500);
      completionAfter = completionTokensToday(endpoints, tenant, model);
    }
    long balanceAfter =
        ((Number) billingBalance(endpoints, tenant).get("balance_micros")).longValue();
    System.out.printf(
        "[hardening] billed for the killed stream: %d completion tokens, balance %d -> %d%n",
        completionAfter - completionBefore, balanceBefore, balanceAfter);
    assertThat(balanceAfter).isLessThan(balanceBefore);

    // the launcher starts the worker again: a call streams once more
    long back = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (true) {
      HttpResponse<String> again =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(endpoints.get("gateway_url") + "/v1/chat/completions"))
                  .timeout(Duration.ofMinutes(2))
                  .header("Authorization", "Bearer " + endpoints.get("api_key"))
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"model\":\""
                              + model
                              + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (again.statusCode() == 200) {
        break;
      }
      assertThat(System.nanoTime()).as("the worker back: %s", again.body()).isLessThan(back);
      Thread.sleep(1000);
    }
  }

  private static Map<?, ?> billingBalance(Map<?, ?> endpoints, String tenant) throws Exception {
    return billingGet(endpoints, "/admin/v1/accounts/" + tenant + "/balance");
  }

  private static long completionTokensToday(Map<?, ?> endpoints, String tenant, String model)
      throws Exception {
    java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    Map<?, ?> usage =
        billingGet(
            endpoints,
            "/admin/v1/accounts/"
                + tenant
                + "/usage?from="
                + today.minusDays(1)
                + "&to="
                + today.plusDays(1));
    long sum = 0;
    for (Object row : (List<?>) usage.get("rows")) {
      Map<?, ?> m = (Map<?, ?>) row;
      if (model.equals(m.get("model"))) {
        sum += ((Number) m.get("completion_tokens")).longValue();
      }
    }
    return sum;
  }

  private static Map<?, ?> billingGet(Map<?, ?> endpoints, String path) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(endpoints.get("billing_admin_url") + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + endpoints.get("billing_admin_token"))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("%s: %s", path, r.body()).isEqualTo(200);
    return LauncherState.JSON.readValue(r.body(), Map.class);
  }

  private static final Pattern GRPC_PORT =
      Pattern.compile("gRPC listening on 127\\.0\\.0\\.1:(\\d+)");

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  /**
   * The status of one call (an empty request message) to the service's gRPC port, read from its
   * log, made the way anyone on the machine could: no service identity.
   */
  private static Status.Code callWithoutIdentity(Path data, String service, String method)
      throws IOException {
    Matcher m = GRPC_PORT.matcher(Files.readString(data.resolve("logs/" + service + ".log")));
    int port = -1;
    while (m.find()) {
      port = Integer.parseInt(m.group(1));
    }
    assertThat(port).as("%s's gRPC port in its log", service).isPositive();
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
            .build();
    try {
      MethodDescriptor<byte[], byte[]> md =
          MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(
                  method.endsWith("/Generate") || method.endsWith("/WatchLoad")
                      ? MethodDescriptor.MethodType.SERVER_STREAMING
                      : MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(method)
              .setRequestMarshaller(BYTES)
              .setResponseMarshaller(BYTES)
              .build();
      ClientCalls.blockingUnaryCall(
          channel, md, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[0]);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      channel.shutdownNow();
    }
  }

  private static Set<Long> awaitGone(Set<Long> pids, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    Set<Long> alive = new HashSet<>(pids);
    while (true) {
      alive.removeIf(p -> ProcessHandle.of(p).map(h -> !h.isAlive()).orElse(true));
      if (alive.isEmpty() || System.nanoTime() > deadline) {
        return alive;
      }
      Thread.sleep(100);
    }
  }
}
