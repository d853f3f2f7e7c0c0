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
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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

  private static final Duration READY_TIMEOUT = Duration.ofMinutes(12);

  @TempDir Path data;

  @Test
  void loopbackOnlyRecoversFromKillNineAndStopsWithinTenSeconds() throws Exception {
    assumeTrue(ProcListeners.available(), "needs Linux /proc");
    Up first = Up.start(data);
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
    } catch (Throwable t) {
      first.kill();
      throw t;
    }

    // 3. kill -9 of the launcher: the services and PostgreSQL follow it
    first.process.destroyForcibly();
    assertThat(first.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Set<Long> leftovers = new HashSet<>(tree);
    leftovers.add(postgres);
    leftovers.remove(first.process.pid());
    assertThat(awaitGone(leftovers, Duration.ofSeconds(15)))
        .as("processes still running 15 s after kill -9 of the launcher")
        .isEmpty();

    Up second = Up.start(data);
    try {
      Map<?, ?> again = second.awaitReady();
      assertThat(again.get("api_key")).as("same demo key").isEqualTo(endpoints.get("api_key"));
      assertThat(second.output()).doesNotContain("giving up", "Gave up");

      // 4. Ctrl-C: everything gone within 10 s
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
      second.kill();
    }
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

  /** One {@code ./glm up --ephemeral-ports} on the folder, its output collected. */
  private static final class Up {
    final Process process;
    private final Path data;
    private final StringBuffer out = new StringBuffer();

    private Up(Process process, Path data) {
      this.process = process;
      this.data = data;
      Thread.ofVirtual()
          .start(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    out.append(line).append('\n');
                    System.out.println("[glm up] " + line);
                  }
                } catch (IOException e) {
                  // ended
                }
              });
    }

    static Up start(Path data) throws IOException {
      Path home = Path.of(System.getProperty("glm.home", "../.."));
      return new Up(
          new ProcessBuilder(
                  home.resolve("glm").toString(),
                  "up",
                  "--data",
                  data.toString(),
                  "--ephemeral-ports")
              .redirectErrorStream(true)
              .start(),
          data);
    }

    Map<?, ?> awaitReady() throws Exception {
      long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
      Path endpoints = data.resolve("endpoints.json");
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new AssertionError(
              "./glm up exited with " + process.exitValue() + " before READY:\n" + out);
        }
        if (Files.isRegularFile(endpoints) && out.toString().contains("GLM MaaS is READY")) {
          return LauncherState.JSON.readValue(endpoints.toFile(), Map.class);
        }
        Thread.sleep(250);
      }
      throw new AssertionError("./glm up not READY within " + READY_TIMEOUT + ":\n" + out);
    }

    String output() {
      return out.toString();
    }

    void kill() throws InterruptedException {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }
}
