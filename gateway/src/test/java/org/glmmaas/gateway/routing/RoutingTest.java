package org.glmmaas.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** Three fake workers with different loads behind the real pool, picker and client. */
class RoutingTest {

  static final String MODEL = "glm-4-flash";
  FakeWorker a;
  FakeWorker b;
  FakeWorker c;
  WorkerPool pool;
  InferenceClient client;

  @BeforeEach
  void start() throws Exception {
    a = new FakeWorker("a", MODEL);
    b = new FakeWorker("b", MODEL);
    c = new FakeWorker("c", MODEL);
    pool =
        new WorkerPool(
                List.of(a.address(), b.address(), c.address()),
                Duration.ofMillis(10),
                Duration.ofMillis(50))
            .start();
    client = new InferenceClient(new WorkerPicker(pool.workers(), 4), 3);
    await(() -> pool.workers().stream().allMatch(WorkerEndpoint::ready));
  }

  @AfterEach
  void stop() {
    pool.close();
    a.close();
    b.close();
    c.close();
  }

  static void await(BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met in time").isLessThan(end);
      Thread.sleep(10);
    }
  }

  static GenerateRequest req(String tenant, String prompt) {
    return GenerateRequest.newBuilder()
        .setRequestId(prompt)
        .setModel(MODEL)
        .setTenantId(tenant)
        .setChat(
            ChatPrompt.newBuilder()
                .addMessages(ChatMessage.newBuilder().setRole("user").setContent(prompt)))
        .build();
  }

  String served(long affinity) {
    List<GenerateResponse> rs =
        client.generate(req("t", "x"), affinity, Duration.ofSeconds(10)).collectList().block();
    return rs.get(rs.size() - 1).getFinished().getWorkerId();
  }

  WorkerEndpoint endpoint(FakeWorker w) {
    return pool.workers().stream()
        .filter(e -> e.address().equals(w.address()))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void trafficGoesToTheLeastLoadedReadyWorkerAndShiftsWhenLoadChanges() throws Exception {
    a.setLoad(0, 1, WorkerState.READY);
    b.setLoad(5, 8, WorkerState.READY);
    c.setLoad(20, 8, WorkerState.READY);
    await(
        () -> endpoint(c).load().getNumWaiting() == 20 && endpoint(b).load().getNumWaiting() == 5);
    Map<String, Integer> counts = new ConcurrentHashMap<>();
    for (long i = 0; i < 30; i++) {
      counts.merge(served(i * 7919), 1, Integer::sum);
    }
    assertThat(counts).containsOnlyKeys("a");

    a.setLoad(30, 8, WorkerState.READY);
    await(() -> endpoint(a).load().getNumWaiting() == 30);
    counts.clear();
    for (long i = 0; i < 30; i++) {
      counts.merge(served(i * 7919), 1, Integer::sum);
    }
    assertThat(counts).containsOnlyKeys("b");

    b.setLoad(0, 0, WorkerState.DRAINING);
    await(() -> !endpoint(b).ready());
    counts.clear();
    for (long i = 0; i < 10; i++) {
      counts.merge(served(i * 7919), 1, Integer::sum);
    }
    assertThat(counts).containsOnlyKeys("c");
  }

  @Test
  void prefixAffinityKeepsATenantsPrefixOnOneWorkerWhileLoadsAreClose() {
    Map<String, Integer> same = new ConcurrentHashMap<>();
    for (int i = 0; i < 20; i++) {
      same.merge(served(123456789L), 1, Integer::sum);
    }
    assertThat(same).hasSize(1);
    Map<String, Integer> spread = new ConcurrentHashMap<>();
    for (long i = 0; i < 60; i++) {
      spread.merge(served(WorkerPicker.mix(i + 1)), 1, Integer::sum);
    }
    assertThat(spread.size()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void killingAWorkerMidRunLosesNoRequestThatHadNotStartedStreaming() throws Exception {
    for (FakeWorker w : List.of(a, c)) {
      w.firstTokenDelayMs = 400;
    }
    // b never answers before it is killed, however slow the machine is between the await and the
    // kill: every call routed to b must move to a or c.
    b.firstTokenDelayMs = 60_000;
    int n = 45;
    List<Flux<GenerateResponse>> calls = new ArrayList<>();
    Map<Integer, AtomicBoolean> started = new ConcurrentHashMap<>();
    for (int i = 0; i < n; i++) {
      AtomicBoolean s = new AtomicBoolean();
      started.put(i, s);
      calls.add(
          client
              .generate(req("t" + i, "p" + i), WorkerPicker.mix(i + 1), Duration.ofSeconds(20))
              .doOnNext(r -> s.set(true))
              .subscribeOn(Schedulers.boundedElastic()));
    }
    var results =
        Flux.merge(
                calls.stream()
                    .map(
                        f ->
                            f.collectList()
                                .map(l -> l.get(l.size() - 1).getFinished().getWorkerId())
                                .onErrorResume(
                                    e ->
                                        reactor.core.publisher.Mono.just(
                                            "ERROR: " + e.getMessage()))
                                .flux())
                    .toList())
            .collectList()
            .toFuture();
    await(() -> a.generateCalls.get() + b.generateCalls.get() + c.generateCalls.get() >= n);
    int onB = b.generateCalls.get();
    assertThat(onB).isPositive();
    b.kill();
    List<String> served = results.get();
    assertThat(served).hasSize(n).noneMatch(s -> s.startsWith("ERROR")).doesNotContain("b");
    await(() -> !endpoint(b).ready());
    int before = a.generateCalls.get() + c.generateCalls.get();
    for (long i = 0; i < 10; i++) {
      assertThat(served(WorkerPicker.mix(i + 100))).isIn("a", "c");
    }
    assertThat(a.generateCalls.get() + c.generateCalls.get()).isEqualTo(before + 10);
  }
}
