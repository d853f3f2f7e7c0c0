package org.glmmaas.worker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.glmmaas.proto.common.v1.ErrorReason;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.glmmaas.proto.inference.v1.TokenIds;
import org.glmmaas.proto.inference.v1.TokenizeRequest;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class InferenceGrpcServiceTest {

  private GrpcHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private static GenerateRequest request(String id, int promptLen, int maxTokens) {
    TokenIds.Builder ids = TokenIds.newBuilder();
    for (int i = 0; i < promptLen; i++) {
      ids.addIds(1 + (i * 7 + id.hashCode() & 0x7fffffff) % 60);
    }
    return GenerateRequest.newBuilder()
        .setRequestId(id)
        .setModel("fake")
        .setTokenIds(ids)
        .setSampling(SamplingParams.newBuilder().setTemperature(0f).setMaxTokens(maxTokens))
        .setTenantId("tenant-1")
        .setKeyId("key-1")
        .setReturnTokenIds(true)
        .build();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(5);
    }
  }

  private static ErrorInfo errorInfo(Throwable t) throws Exception {
    com.google.rpc.Status s = StatusProto.fromThrowable(t);
    assertThat(s).as("status with details").isNotNull();
    return s.getDetails(0).unpack(ErrorInfo.class);
  }

  @Test
  void streamsDeltasThenExactlyOneFinishedWithUsageAndTimings() {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    List<GenerateResponse> all = new ArrayList<>();
    h.blocking.generate(request("r1", 20, 12)).forEachRemaining(all::add);
    List<Integer> tokens = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    // first Accepted (the scheduler began the prefill), once
    assertThat(all.getFirst().hasAccepted()).isTrue();
    assertThat(all.getFirst().getAccepted().getQueuedMs()).isNotNegative();
    for (GenerateResponse r : all.subList(1, all.size() - 1)) {
      assertThat(r.hasDelta()).isTrue();
      tokens.addAll(r.getDelta().getTokenIdsList());
      text.append(r.getDelta().getText());
    }
    var f = all.getLast().getFinished();
    assertThat(f.getFinishReason()).isEqualTo(FinishReason.LENGTH);
    assertThat(tokens).hasSize(12);
    assertThat(text.toString()).hasSize(12);
    assertThat(f.getUsage().getPromptTokens()).isEqualTo(20);
    assertThat(f.getUsage().getCompletionTokens()).isEqualTo(12);
    assertThat(f.getUsage().getTotalTokens()).isEqualTo(32);
    assertThat(f.getWorkerId()).isEqualTo("worker-1");
    assertThat(f.getTimings().getTotalMs()).isGreaterThanOrEqualTo(f.getTimings().getTtftMs());
    assertThat(h.usage)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getRequestId()).isEqualTo("r1");
              assertThat(e.getTenantId()).isEqualTo("tenant-1");
              assertThat(e.getFinishReason()).isEqualTo("length");
              assertThat(e.getModel()).isEqualTo("fake");
            });
  }

  @Test
  void aSharedPrefixIsReportedAsCachedTokensWithTheSameOutput() {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    ChatPrompt chat1 =
        ChatPrompt.newBuilder()
            .addMessages(
                ChatMessage.newBuilder()
                    .setRole("system")
                    .setContent("abcdefghijklmnopqrstuvwxyzabcdefghijklmnop"))
            .addMessages(ChatMessage.newBuilder().setRole("user").setContent("hello"))
            .build();
    GenerateRequest first =
        GenerateRequest.newBuilder()
            .setRequestId("a")
            .setChat(chat1)
            .setTenantId("t")
            .setSampling(SamplingParams.newBuilder().setTemperature(0f).setMaxTokens(5))
            .build();
    List<GenerateResponse> one = new ArrayList<>();
    h.blocking.generate(first).forEachRemaining(one::add);
    List<GenerateResponse> two = new ArrayList<>();
    h.blocking.generate(first.toBuilder().setRequestId("b").build()).forEachRemaining(two::add);
    assertThat(one.getLast().getFinished().getUsage().getCachedTokens()).isZero();
    assertThat(two.getLast().getFinished().getUsage().getCachedTokens()).isEqualTo(32);
    // the same text (the accepted message carries queued_ms, which is timing, not output)
    assertThat(two.stream().filter(GenerateResponse::hasDelta).toList())
        .isNotEmpty()
        .isEqualTo(one.stream().filter(GenerateResponse::hasDelta).toList());
  }

  @Test
  void clientCancellationAbortsTheRequestAndFreesItsBlocks() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    int total = h.runtime.loop().snapshot().numKvBlocksTotal();
    Context.CancellableContext ctx = Context.current().withCancellation();
    BlockingQueue<GenerateResponse> got = new LinkedBlockingQueue<>();
    h.engine().gate = new Semaphore(5);
    ctx.run(
        () ->
            h.async.generate(
                request("c1", 40, 400),
                new StreamObserver<>() {
                  @Override
                  public void onNext(GenerateResponse v) {
                    got.add(v);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                }));
    await(() -> got.size() >= 3);
    assertThat(h.freeBlocks()).isLessThan(total);
    ctx.cancel(null);
    h.engine().gate.release(1000);
    await(() -> h.usage.size() == 1);
    await(() -> h.freeBlocks() == total);
    assertThat(h.usage.getFirst().getFinishReason()).isEqualTo("cancelled");
    assertThat(h.usage.getFirst().getCompletionTokens()).isBetween(3, 399);
  }

  @Test
  void aSlowClientIsBufferedWithoutHoldingUpTheEngineOrOtherStreams() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    List<GenerateResponse> slow = new ArrayList<>();
    CompletableFuture<Void> slowDone = new CompletableFuture<>();
    var slowCall = new CompletableFuture<ClientCallStreamObserver<GenerateRequest>>();
    h.async.generate(
        request("slow", 10, 200),
        new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<GenerateRequest> call) {
            call.disableAutoRequestWithInitial(1);
            slowCall.complete(call);
          }

          @Override
          public void onNext(GenerateResponse v) {
            synchronized (slow) {
              slow.add(v);
            }
          }

          @Override
          public void onError(Throwable t) {
            slowDone.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            slowDone.complete(null);
          }
        });
    // a fast stream completes while the slow client has taken one message
    List<GenerateResponse> fast = new ArrayList<>();
    h.blocking.generate(request("fast", 10, 50)).forEachRemaining(fast::add);
    assertThat(fast.getLast().getFinished().getUsage().getCompletionTokens()).isEqualTo(50);
    // the engine finished the slow request too: its usage is out, its blocks are free
    await(() -> h.usage.stream().anyMatch(e -> e.getRequestId().equals("slow")));
    synchronized (slow) {
      assertThat(slow).hasSize(1);
      assertThat(slow.getFirst().hasAccepted()).isTrue();
    }
    slowCall.get().request(Integer.MAX_VALUE);
    slowDone.get(20, TimeUnit.SECONDS);
    assertThat(slow).hasSize(202);
    assertThat(slow.getLast().getFinished().getUsage().getCompletionTokens()).isEqualTo(200);
    assertThat(slow.subList(1, 201)).allMatch(r -> r.getDelta().getTokenIdsCount() == 1);
  }

  @Test
  void badRequestsGetStatusesWithErrorInfoReasons() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    GenerateRequest ok = request("e1", 5, 5);

    GenerateRequest badTemp =
        ok.toBuilder().setSampling(ok.getSampling().toBuilder().setTemperature(-1f)).build();
    Throwable t = catchFirst(badTemp);
    assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(Status.fromThrowable(t).getDescription()).contains("temperature").contains("-1");
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.INVALID_REQUEST.name());
    assertThat(errorInfo(t).getDomain()).isEqualTo("glm-maas");

    GenerateRequest badTopP =
        ok.toBuilder().setSampling(ok.getSampling().toBuilder().setTopP(1.5f)).build();
    assertThat(Status.fromThrowable(catchFirst(badTopP)).getDescription()).contains("top_p");

    GenerateRequest tooLong =
        ok.toBuilder().setSampling(ok.getSampling().toBuilder().setMaxTokens(600)).build();
    t = catchFirst(tooLong);
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.CONTEXT_LENGTH_EXCEEDED.name());
    assertThat(Status.fromThrowable(t).getDescription()).contains("512");

    t = catchFirst(ok.toBuilder().setModel("other-model").build());
    assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.MODEL_NOT_FOUND.name());

    t = catchFirst(ok.toBuilder().setTokenIds(TokenIds.newBuilder().addIds(9999)).build());
    assertThat(Status.fromThrowable(t).getDescription()).contains("outside the vocabulary");

    t = catchFirst(ok.toBuilder().clearPrompt().build());
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.INVALID_REQUEST.name());
    assertThat(h.usage).isEmpty();
  }

  @Test
  void aFullQueueAnswersOverloaded() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 2);
    h.engine().gate = new Semaphore(0);
    // the engine is stalled inside a step running q0; two more may wait, the next is refused
    List<Iterator<GenerateResponse>> open = new ArrayList<>();
    open.add(h.blocking.generate(request("q0", 5, 3)));
    await(() -> h.runtime.loop().snapshot().numRunning() == 1);
    open.add(h.blocking.generate(request("q1", 5, 3)));
    open.add(h.blocking.generate(request("q2", 5, 3)));
    await(() -> h.runtime.loop().snapshot().numWaiting() == 2);
    Throwable t = catchFirst(request("q-over", 5, 3));
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.OVERLOADED.name());
    assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(Status.fromThrowable(t).getDescription()).contains("queue is full");
    h.engine().gate.release(10_000);
    for (Iterator<GenerateResponse> it : open) {
      GenerateResponse last = null;
      while (it.hasNext()) {
        last = it.next();
      }
      assertThat(last.getFinished().getFinishReason()).isEqualTo(FinishReason.LENGTH);
    }
  }

  private Throwable catchFirst(GenerateRequest req) {
    try {
      h.blocking.generate(req).forEachRemaining(r -> {});
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("expected an error");
  }

  @Test
  void aWorkerThatIsNotReadyAnswersUnavailableAndHealthSaysNotServing() throws Exception {
    h = new GrpcHarness("", 256, 16);
    Throwable t = catchFirst(request("u1", 5, 5));
    assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.UNAVAILABLE.name());
    assertThat(Status.fromThrowable(t).getDescription()).contains("no model configured");
    var health = HealthGrpc.newBlockingStub(h.channel);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.NOT_SERVING);
  }

  @Test
  void healthFollowsTheLifecycle() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16, false);
    var health = HealthGrpc.newBlockingStub(h.channel);
    HealthCheckRequest inference =
        HealthCheckRequest.newBuilder().setService("glm.inference.v1.InferenceService").build();
    assertThat(health.check(inference).getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
    h.runtime.start();
    assertThat(health.check(inference).getStatus()).isEqualTo(ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    h.runtime.drainAndStop(Duration.ofSeconds(1));
    assertThat(health.check(inference).getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
  }

  @Test
  void drainingRefusesNewWorkFinishesOrAbortsTheRestWithUsage() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    h.engine().gate = new Semaphore(3);
    Iterator<GenerateResponse> longOne = h.blocking.generate(request("d1", 5, 400));
    assertThat(longOne.next().hasAccepted()).isTrue();
    assertThat(longOne.next().hasDelta()).isTrue();
    CountDownLatch draining = new CountDownLatch(1);
    h.runtime.addStateListener(
        s -> {
          if (s == WorkerState.DRAINING) {
            draining.countDown();
          }
        });
    Thread drainer = Thread.ofVirtual().start(() -> h.runtime.drainAndStop(Duration.ofMillis(300)));
    assertThat(draining.await(10, TimeUnit.SECONDS)).isTrue();
    Throwable t = catchFirst(request("d2", 5, 5));
    assertThat(errorInfo(t).getReason()).isEqualTo(ErrorReason.UNAVAILABLE.name());
    h.engine()
        .gate
        .release(10_000); // too slow to finish 400 tokens? it is aborted at 300 ms or finishes
    drainer.join();
    GenerateResponse last = null;
    while (longOne.hasNext()) {
      last = longOne.next();
    }
    assertThat(last.hasFinished()).isTrue();
    assertThat(last.getFinished().getFinishReason())
        .isIn(FinishReason.ABORTED, FinishReason.LENGTH);
    assertThat(h.usage)
        .singleElement()
        .satisfies(e -> assertThat(e.getRequestId()).isEqualTo("d1"));
    assertThat(h.runtime.state()).isEqualTo(WorkerState.STOPPED);
  }

  @Test
  void drainTimeoutAbortsStreamsThatCannotFinish() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    h.engine().gate = new Semaphore(2);
    Iterator<GenerateResponse> stuck = h.blocking.generate(request("s1", 5, 400));
    assertThat(stuck.next().hasAccepted()).isTrue();
    assertThat(stuck.next().hasDelta()).isTrue();
    Thread releaser =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(400);
                  } catch (InterruptedException ignored) {
                    return;
                  }
                  h.engine().gate.release(10_000);
                });
    h.runtime.drainAndStop(Duration.ofMillis(100));
    releaser.join();
    GenerateResponse last = null;
    while (stuck.hasNext()) {
      last = stuck.next();
    }
    assertThat(last.getFinished().getFinishReason()).isEqualTo(FinishReason.ABORTED);
    assertThat(h.usage)
        .singleElement()
        .satisfies(e -> assertThat(e.getFinishReason()).isEqualTo("aborted"));
  }

  @Test
  void theCallDeadlineBecomesTheRequestDeadline() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    h.blocking.getInfo(GetInfoRequest.getDefaultInstance()); // warm the channel
    h.engine().gate = new Semaphore(3);
    Thread releaser =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(500);
                  } catch (InterruptedException ignored) {
                    return;
                  }
                  h.engine().gate.release(10_000);
                });
    assertThatThrownBy(
            () ->
                h.blocking
                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                    .generate(request("dl", 5, 400))
                    .forEachRemaining(r -> {}))
        .satisfies(
            e ->
                assertThat(Status.fromThrowable(e).getCode())
                    .isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    releaser.join();
    await(() -> h.usage.size() == 1);
    assertThat(h.usage.getFirst().getFinishReason()).isEqualTo("deadline_exceeded");
  }

  @Test
  void theTraceparentHeaderReachesTheUsageEvent() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    Metadata md = new Metadata();
    md.put(TraceContext.TRACEPARENT, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    h.blocking
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .generate(request("tr", 5, 2))
        .forEachRemaining(r -> {});
    assertThat(h.usage.getFirst().getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
  }

  @Test
  void watchLoadReportsNowThenOnChangesAtMostEveryInterval() throws Exception {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    BlockingQueue<LoadReport> reports = new LinkedBlockingQueue<>();
    h.async.watchLoad(
        WatchLoadRequest.newBuilder().setMinIntervalMs(100).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(LoadReport v) {
            reports.add(v);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    LoadReport first = reports.poll(10, TimeUnit.SECONDS);
    assertThat(first.getState()).isEqualTo(WorkerState.READY);
    assertThat(first.getWorkerId()).isEqualTo("worker-1");
    assertThat(first.getDevice()).isEqualTo("cpu");
    assertThat(first.getNumKvBlocksTotal()).isEqualTo(256);
    h.engine().gate = new Semaphore(0);
    Iterator<GenerateResponse> busy = h.blocking.generate(request("w1", 5, 3));
    LoadReport second = reports.poll(10, TimeUnit.SECONDS);
    assertThat(second.getNumRunning() + second.getNumWaiting()).isEqualTo(1);
    h.engine().gate.release(10_000);
    busy.forEachRemaining(r -> {});
    await(() -> reports.stream().anyMatch(r -> r.getNumRunning() == 0 && r.getNumWaiting() == 0));
    // the worker stamps each report when it makes it: never two within the requested interval
    List<LoadReport> all = new ArrayList<>(reports);
    all.addFirst(second);
    all.addFirst(first);
    for (int i = 1; i < all.size(); i++) {
      assertThat(all.get(i).getTimestampUnixMs() - all.get(i - 1).getTimestampUnixMs())
          .isGreaterThanOrEqualTo(99);
    }
  }

  @Test
  void tokenizeListModelsAndGetInfoDescribeTheWorker() {
    h = new GrpcHarness("/models/fake.gguf", 256, 16);
    var tok = h.blocking.tokenize(TokenizeRequest.newBuilder().setText("abc").build());
    assertThat(tok.getIdsList()).containsExactly(1, 2, 3);
    assertThat(tok.getNumTokens()).isEqualTo(3);
    var chat =
        h.blocking.tokenize(
            TokenizeRequest.newBuilder()
                .setChat(
                    ChatPrompt.newBuilder()
                        .addMessages(ChatMessage.newBuilder().setRole("user").setContent("hi")))
                .build());
    assertThat(chat.getRendered()).isEqualTo("hi");
    var models = h.blocking.listModels(ListModelsRequest.getDefaultInstance());
    assertThat(models.getModelsList())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getId()).isEqualTo("fake");
              assertThat(m.getContextLength()).isEqualTo(512);
              assertThat(m.getVocabSize()).isEqualTo(64);
            });
    WorkerInfo info = h.blocking.getInfo(GetInfoRequest.getDefaultInstance());
    assertThat(info.getState()).isEqualTo(WorkerState.READY);
    assertThat(info.getNumKvBlocks()).isEqualTo(256);
    assertThat(info.getMaxNumSeqs()).isEqualTo(8);
    assertThat(info.getCapabilitiesList()).contains("prefix-caching", "chat");
  }
}
