package org.glmmaas.gateway.bench;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.glmmaas.gateway.support.TestGateway;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;

/**
 * Load generator (not a test): the test gateway with a FakeWorker that answers at once. Open-loop
 * at a fixed rate (latency measured from each request's scheduled send time, so a stall is not
 * hidden), for three targets: the worker directly over gRPC (the baseline), the gateway
 * non-streaming, the gateway streaming; then a closed-loop throughput run. The latency the gateway
 * adds = gateway percentile - direct percentile.
 *
 * <p>Args: rates (req/s, comma-separated, default 500), seconds per phase (default 20), concurrency
 * for the throughput run (default 64).
 */
public final class GatewayLoadBenchmark {

  public static void main(String[] args) throws Exception {
    int[] rates =
        java.util.Arrays.stream((args.length > 0 ? args[0] : "500").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int conc = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    TestGateway gw = TestGateway.get();
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();
    ManagedChannel ch =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", gw.worker.port(), InsecureChannelCredentials.create())
            .build();
    var stub = InferenceServiceGrpc.newFutureStub(ch);
    var blocking = InferenceServiceGrpc.newBlockingStub(ch);
    GenerateRequest g =
        GenerateRequest.newBuilder()
            .setRequestId("bench")
            .setModel(TestGateway.MODEL)
            .setChat(
                ChatPrompt.newBuilder()
                    .addMessages(ChatMessage.newBuilder().setRole("user").setContent("hi")))
            .build();
    HttpRequest unary = post(gw, TestGateway.chat("hi", null));
    HttpRequest stream = post(gw, TestGateway.chat("hi", "\"stream\":true"));

    Target direct =
        () ->
            CompletableFuture.supplyAsync(
                () -> {
                  blocking.generate(g).forEachRemaining(x -> {});
                  return 200;
                },
                Executors.newVirtualThreadPerTaskExecutor());
    Target viaUnary =
        () ->
            http.sendAsync(unary, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> r.body().contains("Hello, world!") ? r.statusCode() : -1);
    Target viaStream =
        () ->
            http.sendAsync(stream, HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> r.body().endsWith("data: [DONE]\n\n") ? r.statusCode() : -1);

    System.out.println("warming up...");
    openLoop(direct, rates[0], Math.max(5, seconds / 2));
    openLoop(viaUnary, rates[0], Math.max(5, seconds / 2));
    openLoop(viaStream, rates[0], Math.max(5, seconds / 2));
    stub.getClass();
    for (int rate : rates) {
      phase(rate, seconds, direct, viaUnary, viaStream);
    }
    System.out.printf("%nclosed loop, %d concurrent clients, %d s each:%n", conc, seconds);
    System.out.printf("gateway non-streaming: %.0f req/s%n", closedLoop(viaUnary, conc, seconds));
    System.out.printf("gateway streaming:     %.0f req/s%n", closedLoop(viaStream, conc, seconds));
    ch.shutdownNow();
    gw.context.close();
    System.exit(0);
  }

  static void phase(int rate, int seconds, Target direct, Target viaUnary, Target viaStream)
      throws InterruptedException {
    long[] d = openLoop(direct, rate, seconds);
    long[] u = openLoop(viaUnary, rate, seconds);
    long[] s = openLoop(viaStream, rate, seconds);
    System.out.printf(
        "%nopen loop at %d req/s for %d s each (latency in ms, from scheduled send)%n",
        rate, seconds);
    report("direct gRPC to worker", d);
    report("gateway non-streaming", u);
    report("gateway streaming", s);
    System.out.printf(
        "added by the gateway, non-streaming: p50 %.2f ms, p99 %.2f ms%n",
        (p(u, 50) - p(d, 50)) / 1e6, (p(u, 99) - p(d, 99)) / 1e6);
    System.out.printf(
        "added by the gateway, streaming:     p50 %.2f ms, p99 %.2f ms%n",
        (p(s, 50) - p(d, 50)) / 1e6, (p(s, 99) - p(d, 99)) / 1e6);
  }

  interface Target {
    CompletableFuture<Integer> call();
  }

  static HttpRequest post(TestGateway gw, String body) {
    return HttpRequest.newBuilder(URI.create(gw.url("/api/paas/v4/chat/completions")))
        .header("Authorization", "Bearer " + TestGateway.KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  static long[] openLoop(Target t, int rate, int seconds) throws InterruptedException {
    int n = rate * seconds;
    long periodNanos = 1_000_000_000L / rate;
    ConcurrentLinkedQueue<Long> lat = new ConcurrentLinkedQueue<>();
    AtomicInteger errors = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(n);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    long start = System.nanoTime();
    AtomicLong i = new AtomicLong();
    timer.scheduleAtFixedRate(
        () -> {
          long k = i.getAndIncrement();
          if (k >= n) {
            return;
          }
          long scheduled = start + k * periodNanos;
          t.call()
              .whenComplete(
                  (st, e) -> {
                    if (e != null || st != 200) {
                      errors.incrementAndGet();
                    } else {
                      lat.add(System.nanoTime() - scheduled);
                    }
                    done.countDown();
                  });
        },
        0,
        periodNanos,
        TimeUnit.NANOSECONDS);
    done.await(seconds + 60L, TimeUnit.SECONDS);
    timer.shutdownNow();
    if (errors.get() > 0) {
      System.out.println("  errors: " + errors.get());
    }
    long[] a = lat.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a;
  }

  static double closedLoop(Target t, int conc, int seconds) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    AtomicLong ok = new AtomicLong();
    List<Thread> ts = new ArrayList<>();
    for (int c = 0; c < conc; c++) {
      ts.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (System.nanoTime() < end) {
                      try {
                        if (t.call().get() == 200) {
                          ok.incrementAndGet();
                        }
                      } catch (Exception e) {
                        return;
                      }
                    }
                  }));
    }
    for (Thread th : ts) {
      th.join();
    }
    return ok.get() / (double) seconds;
  }

  static double p(long[] a, double q) {
    return a.length == 0 ? Double.NaN : a[Math.min(a.length - 1, (int) (a.length * q / 100))];
  }

  static void report(String name, long[] a) {
    System.out.printf(
        "%-24s n=%d p50 %.2f  p90 %.2f  p99 %.2f  max %.2f%n",
        name,
        a.length,
        p(a, 50) / 1e6,
        p(a, 90) / 1e6,
        p(a, 99) / 1e6,
        a.length == 0 ? 0 : a[a.length - 1] / 1e6);
  }
}
