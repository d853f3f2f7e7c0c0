package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.proto.inference.v1.ChatMessage;
import org.glmmaas.proto.inference.v1.ChatPrompt;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.Finished;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

/**
 * The whole worker on the native engine with a reference model: continuous batching must not change
 * what a request produces. Skips without ../shared or libglm.
 */
class NativeServingTest {

  static InProcessWorker worker;
  static InferenceServiceGrpc.InferenceServiceBlockingStub stub;

  @BeforeAll
  static void start() {
    String shared = System.getProperty("glm.shared.dir");
    assumeTrue(shared != null, "glm.shared.dir is not set");
    Path model = Path.of(shared, "reference", "models", "small-glm4-q8_0.gguf");
    assumeTrue(Files.isReadable(model), () -> model + " is absent");
    assumeTrue(
        NativeGlmEngine.isAvailable(),
        () -> "libglm not loadable: " + NativeGlmEngine.unavailableReason());
    WorkerProperties props =
        new WorkerProperties(
            "native-test",
            model.toString(),
            "small",
            "cpu",
            2,
            "",
            Duration.ofSeconds(5),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(16, 512, 1024, 64),
            new WorkerProperties.KvCache(16, DataSize.ofMegabytes(64), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    worker = InProcessWorker.start(props, e -> {});
    stub = worker.stub;
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
  }

  record Result(List<Integer> tokens, String text, Finished finished) {}

  static Result generate(GenerateRequest r) {
    List<Integer> tokens = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    Finished fin = null;
    var it = stub.generate(r);
    while (it.hasNext()) {
      GenerateResponse m = it.next();
      if (m.hasDelta()) {
        tokens.addAll(m.getDelta().getTokenIdsList());
        text.append(m.getDelta().getText());
      } else {
        fin = m.getFinished();
      }
    }
    return new Result(tokens, text.toString(), fin);
  }

  static GenerateRequest chat(String id, String system, String user, SamplingParams sampling) {
    ChatPrompt.Builder c = ChatPrompt.newBuilder();
    if (system != null) {
      c.addMessages(ChatMessage.newBuilder().setRole("system").setContent(system));
    }
    c.addMessages(ChatMessage.newBuilder().setRole("user").setContent(user));
    return GenerateRequest.newBuilder()
        .setRequestId(id)
        .setChat(c)
        .setTenantId("t-" + id)
        .setReturnTokenIds(true)
        .setSampling(sampling)
        .build();
  }

  static SamplingParams greedy(int n) {
    return SamplingParams.newBuilder()
        .setTemperature(0f)
        .setMaxTokens(n)
        .setIgnoreEos(true)
        .build();
  }

  static List<Result> concurrently(List<GenerateRequest> requests) throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Result>> fs = new ArrayList<>();
      for (GenerateRequest r : requests) {
        fs.add(pool.submit(() -> generate(r)));
      }
      List<Result> out = new ArrayList<>();
      for (Future<Result> f : fs) {
        out.add(f.get());
      }
      return out;
    }
  }

  @Test
  void sixteenConcurrentGreedyStreamsEachMatchTheirPromptAlone() throws Exception {
    List<GenerateRequest> reqs = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      reqs.add(
          chat(
              "g" + i,
              null,
              "Question number " + i + ": " + "tell me something ".repeat(1 + i % 5),
              greedy(24 + i % 3 * 8)));
    }
    List<Result> alone = new ArrayList<>();
    for (GenerateRequest r : reqs) {
      alone.add(
          generate(
              r.toBuilder()
                  .setRequestId(r.getRequestId() + "-alone")
                  .setTenantId("alone-" + r.getRequestId())
                  .build()));
    }
    List<Result> together = concurrently(reqs);
    for (int i = 0; i < 16; i++) {
      assertThat(together.get(i).finished().getFinishReason()).isEqualTo(FinishReason.LENGTH);
      assertThat(together.get(i).tokens()).as("request %d", i).isEqualTo(alone.get(i).tokens());
      assertThat(together.get(i).text()).isEqualTo(alone.get(i).text());
    }
  }

  @Test
  void aSharedSystemPromptIsServedFromThePrefixCacheWithTheSameOutput() {
    String system = "You are a careful assistant. Answer briefly and precisely. ".repeat(4);
    GenerateRequest first =
        chat("p1", system, "What is a block table?", greedy(16)).toBuilder()
            .setTenantId("acme")
            .build();
    GenerateRequest second =
        chat("p2", system, "What is a block table?", greedy(16)).toBuilder()
            .setTenantId("acme")
            .build();
    Result a = generate(first);
    Result b = generate(second);
    assertThat(a.finished().getUsage().getCachedTokens()).isZero();
    assertThat(b.finished().getUsage().getCachedTokens()).isPositive();
    assertThat(b.tokens()).isEqualTo(a.tokens());
    Result otherTenant =
        generate(second.toBuilder().setRequestId("p3").setTenantId("other").build());
    assertThat(otherTenant.finished().getUsage().getCachedTokens()).isZero();
    assertThat(otherTenant.tokens()).isEqualTo(a.tokens());
  }

  @Test
  void seededSamplingIsReproducibleAloneAndAmongFifteenOthers() throws Exception {
    SamplingParams seeded =
        SamplingParams.newBuilder()
            .setTemperature(0.9f)
            .setTopP(0.95f)
            .setSeed(1234)
            .setMaxTokens(24)
            .setIgnoreEos(true)
            .build();
    GenerateRequest probe = chat("s0", null, "Write a short line about batching.", seeded);
    Result alone = generate(probe);
    List<GenerateRequest> reqs = new ArrayList<>();
    reqs.add(probe.toBuilder().setRequestId("s0-again").setTenantId("x").build());
    for (int i = 1; i < 16; i++) {
      reqs.add(chat("s" + i, null, "Other prompt " + i, seeded.toBuilder().setSeed(i).build()));
    }
    List<Result> together = concurrently(reqs);
    assertThat(together.getFirst().tokens()).isEqualTo(alone.tokens());
    assertThat(together.getFirst().text()).isEqualTo(alone.text());
  }
}
