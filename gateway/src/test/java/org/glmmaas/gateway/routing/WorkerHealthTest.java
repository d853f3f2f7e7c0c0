package org.glmmaas.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.glmmaas.gateway.support.FakeWorker;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Workers that hang with their streams open are taken out of routing, and come back. */
class WorkerHealthTest {

  FakeWorker a;
  FakeWorker b;
  WorkerPool pool;
  InferenceClient client;

  @BeforeEach
  void start() throws Exception {
    a = new FakeWorker("a", RoutingTest.MODEL);
    b = new FakeWorker("b", RoutingTest.MODEL);
    startPool(Duration.ofMinutes(2));
  }

  /** (Re)starts the gateway side: the pool learns each worker's capabilities when it connects. */
  void startPool(Duration queueTimeout) throws Exception {
    if (pool != null) {
      pool.close();
    }
    pool =
        new WorkerPool(
                List.of(a.address(), b.address()),
                Duration.ofMillis(10),
                Duration.ofMillis(50),
                Duration.ofMillis(300))
            .start();
    client =
        new InferenceClient(
            new WorkerPicker(pool.workers(), 0),
            3,
            Duration.ofMillis(400),
            queueTimeout,
            Duration.ofSeconds(30));
    await(() -> pool.workers().stream().allMatch(WorkerEndpoint::ready), 10);
    // a is the least loaded: it gets the traffic while it is healthy
    b.setLoad(3, 3, WorkerState.READY);
    await(() -> endpoint(b).load().getNumWaiting() == 3, 10);
  }

  @AfterEach
  void stop() {
    pool.close();
    a.close();
    b.close();
  }

  WorkerEndpoint endpoint(FakeWorker w) {
    return pool.workers().stream()
        .filter(e -> e.address().equals(w.address()))
        .findFirst()
        .orElseThrow();
  }

  static void await(BooleanSupplier cond, int seconds) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (!cond.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met in time").isLessThan(end);
      Thread.sleep(10);
    }
  }

  String served(long affinity) {
    List<GenerateResponse> rs =
        client
            .generate(RoutingTest.req("t", "x"), affinity, Duration.ofSeconds(10))
            .collectList()
            .block();
    return rs.getLast().getFinished().getWorkerId();
  }

  @Test
  void aWorkerWhoseLoadStreamStaysOpenButSilentIsMarkedDownWithinSecondsAndComesBack()
      throws Exception {
    assertThat(served(1)).isEqualTo("a");
    a.hung = true;
    long t0 = System.nanoTime();
    await(() -> !endpoint(a).ready(), 5);
    long detectedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(detectedMs).as("detection time, ms").isLessThan(3000);
    Map<String, Integer> counts = new ConcurrentHashMap<>();
    for (long i = 0; i < 10; i++) {
      counts.merge(served(i), 1, Integer::sum);
    }
    assertThat(counts).containsOnlyKeys("b");

    a.hung = false;
    await(() -> endpoint(a).ready(), 10);
    assertThat(served(1)).isEqualTo("a");
  }

  @Test
  void aGenerateThatStallsBeforeTheFirstTokenIsRetriedElsewhereAndItsWorkerQuarantined()
      throws Exception {
    a.generateHangs = true;
    long t0 = System.nanoTime();
    assertThat(served(1)).isEqualTo("b");
    assertThat((System.nanoTime() - t0) / 1_000_000).as("ms").isBetween(350L, 5000L);
    assertThat(a.generateCalls.get()).isEqualTo(1);
    await(() -> a.cancellations.get() == 1, 5);
    assertThat(endpoint(a).ready()).isFalse();
    assertThat(endpoint(a).quarantined()).isTrue();
    // quarantined: the next calls go to b at once, without waiting on a again
    for (long i = 0; i < 5; i++) {
      assertThat(served(i)).isEqualTo("b");
    }
    assertThat(a.generateCalls.get()).isEqualTo(1);
  }

  @Test
  void aRetryRunsUnderItsOwnRequestIdSoBothAttemptsAreBilled() throws Exception {
    a.generateHangs = true;
    List<String> retries = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<GenerateResponse> rs =
        client
            .generate(
                RoutingTest.req("t", "call-1"),
                1,
                Duration.ofSeconds(10),
                (failed, next) -> {
                  retries.add(failed.getRequestId() + "->" + next.getRequestId());
                  return reactor.core.publisher.Mono.empty();
                })
            .collectList()
            .block();
    assertThat(rs.getLast().getFinished().getWorkerId()).isEqualTo("b");
    // the cancelled attempt and the one that answered have different usage idempotency keys
    assertThat(a.lastRequest.getRequestId()).isEqualTo("call-1");
    assertThat(b.lastRequest.getRequestId()).isEqualTo("call-1-a2");
    assertThat(retries).containsExactly("call-1->call-1-a2");
  }

  @Test
  void aBusyWorkerThatQueuesLongerThanTheFirstTokenTimeoutIsWaitedForNotQuarantined()
      throws Exception {
    a.sendsAccepted = true;
    b.sendsAccepted = true;
    startPool(Duration.ofMinutes(2));
    await(() -> endpoint(a).sendsAccepted(), 10);
    a.queueMs = 1000; // queued 2.5 x the first-token timeout, then prefilled and streamed
    List<GenerateResponse> rs =
        client.generate(RoutingTest.req("t", "x"), 1, Duration.ofSeconds(10)).collectList().block();
    assertThat(rs.getLast().getFinished().getWorkerId()).isEqualTo("a");
    assertThat(a.generateCalls.get()).isEqualTo(1);
    assertThat(b.generateCalls.get()).isZero();
    assertThat(a.cancellations.get()).isZero();
    assertThat(endpoint(a).quarantined()).isFalse();
    // the caller sees only what it saw before Accepted existed: deltas, then Finished
    assertThat(rs).noneMatch(GenerateResponse::hasAccepted);
    assertThat(rs.getFirst().hasDelta()).isTrue();
  }

  @Test
  void aWorkerThatAcceptsAndThenSendsNothingIsTimedOutFromAcceptedAndQuarantined()
      throws Exception {
    a.sendsAccepted = true;
    b.sendsAccepted = true;
    startPool(Duration.ofMinutes(2));
    await(() -> endpoint(a).sendsAccepted(), 10);
    a.queueMs = 300;
    a.generateHangs = true; // accepted after 300 ms, then silent
    long t0 = System.nanoTime();
    assertThat(served(1)).isEqualTo("b");
    // 300 ms queued + 400 ms first-token timeout counted from Accepted
    assertThat((System.nanoTime() - t0) / 1_000_000).as("ms").isBetween(650L, 5000L);
    await(() -> a.cancellations.get() == 1, 5);
    assertThat(endpoint(a).quarantined()).isTrue();
    for (long i = 0; i < 3; i++) {
      assertThat(served(i)).isEqualTo("b");
    }
    assertThat(a.generateCalls.get()).isEqualTo(1);
  }

  @Test
  void aCallQueuedPastTheQueueTimeoutIsRetriedElsewhereWithoutQuarantine() throws Exception {
    a.sendsAccepted = true;
    b.sendsAccepted = true;
    startPool(Duration.ofMillis(800));
    await(() -> endpoint(a).sendsAccepted(), 10);
    a.queueMs = 5000;
    // busy, not broken: a streams another call (accepted at once) the whole time this one waits
    reactor.core.Disposable busy =
        client
            .generate(RoutingTest.req("t", "[slow][no-queue]"), 1, Duration.ofSeconds(30))
            .subscribe(r -> {}, e -> {});
    try {
      await(() -> a.generateCalls.get() == 1, 5);
      long t0 = System.nanoTime();
      assertThat(served(1)).isEqualTo("b");
      assertThat((System.nanoTime() - t0) / 1_000_000).as("ms").isBetween(750L, 4000L);
      await(() -> a.cancellations.get() == 1, 5);
      assertThat(endpoint(a).quarantined()).isFalse();
      assertThat(endpoint(a).ready()).isTrue();
    } finally {
      busy.dispose();
    }
  }

  /**
   * An engine that is stuck before it begins anything: the call waits out the queue timeout on a
   * worker that accepted and streamed nothing meanwhile. Before: retried, but the worker stayed in
   * routing, so every later call waited the whole queue timeout on it again.
   */
  @Test
  void aWorkerThatAcceptsNothingAndStreamsNothingUntilTheQueueTimeoutIsQuarantined()
      throws Exception {
    a.sendsAccepted = true;
    b.sendsAccepted = true;
    startPool(Duration.ofMillis(800));
    await(() -> endpoint(a).sendsAccepted(), 10);
    a.queueMs = 60_000; // the engine never gets to it
    long t0 = System.nanoTime();
    assertThat(served(1)).isEqualTo("b");
    assertThat((System.nanoTime() - t0) / 1_000_000).as("ms").isBetween(750L, 4000L);
    await(() -> a.cancellations.get() == 1, 5);
    assertThat(endpoint(a).quarantined()).isTrue();
    // the next calls go to b at once instead of queueing on a again
    long t1 = System.nanoTime();
    for (long i = 0; i < 3; i++) {
      assertThat(served(i)).isEqualTo("b");
    }
    assertThat((System.nanoTime() - t1) / 1_000_000).as("ms for 3 calls").isLessThan(750L);
    assertThat(a.generateCalls.get()).isEqualTo(1);
  }

  /**
   * A stream that stops in the middle (the engine hangs after 2 deltas): cut after the stall
   * timeout with an error the caller sees, the worker quarantined. Before: the call hung until its
   * own deadline and the worker kept getting traffic.
   */
  @Test
  void aStreamThatStopsMidAnswerIsCutAndItsWorkerQuarantined() throws Exception {
    a.stallAfterDeltas = 2;
    List<GenerateResponse> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    long t0 = System.nanoTime();
    Throwable error =
        org.assertj.core.api.Assertions.catchThrowable(
            () ->
                client
                    .generate(RoutingTest.req("t", "x"), 1, Duration.ofSeconds(20))
                    .doOnNext(got::add)
                    .blockLast());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(got).hasSize(2).allMatch(GenerateResponse::hasDelta);
    assertThat(error).isInstanceOf(org.glmmaas.gateway.error.GlmException.class);
    assertThat(((org.glmmaas.gateway.error.GlmException) error).error().message())
        .contains("stopped producing tokens");
    assertThat(ms)
        .as("cut after the 400 ms stall timeout, not the 20 s deadline")
        .isBetween(350L, 5000L);
    await(() -> a.cancellations.get() == 1, 5);
    assertThat(endpoint(a).quarantined()).isTrue();
    a.stallAfterDeltas = -1;
    for (long i = 0; i < 3; i++) {
      assertThat(served(i)).isEqualTo("b");
    }
  }

  /** A caller that stops reading for longer than the stall timeout is not taken for a stall. */
  @Test
  void aCallerThatPausesReadingLongerThanTheStallTimeoutIsNotAStall() throws Exception {
    List<GenerateResponse> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.CompletableFuture<Throwable> end =
        new java.util.concurrent.CompletableFuture<>();
    reactor.core.publisher.BaseSubscriber<GenerateResponse> slowReader =
        new reactor.core.publisher.BaseSubscriber<>() {
          @Override
          protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
            request(1);
          }

          @Override
          protected void hookOnNext(GenerateResponse r) {
            got.add(r);
          }

          @Override
          protected void hookOnComplete() {
            end.complete(null);
          }

          @Override
          protected void hookOnError(Throwable t) {
            end.complete(t);
          }
        };
    client.generate(RoutingTest.req("t", "x"), 1, Duration.ofSeconds(20)).subscribe(slowReader);
    await(() -> got.size() == 1, 5);
    Thread.sleep(1000); // 2.5 x the stall timeout without asking for more
    slowReader.requestUnbounded();
    assertThat(end.get(5, java.util.concurrent.TimeUnit.SECONDS)).isNull();
    assertThat(got.getLast().hasFinished()).isTrue();
    assertThat(endpoint(a).quarantined()).isFalse();
    assertThat(a.cancellations.get()).isZero();
  }
}
