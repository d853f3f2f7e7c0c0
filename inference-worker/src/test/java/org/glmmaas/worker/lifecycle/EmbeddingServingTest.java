package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.proto.inference.v1.EmbedInput;
import org.glmmaas.proto.inference.v1.EmbedRequest;
import org.glmmaas.proto.inference.v1.EmbedResponse;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ListModelsRequest;
import org.glmmaas.proto.inference.v1.ModelInfo;
import org.glmmaas.proto.inference.v1.TokenIds;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/**
 * A worker serving a made bert model on the native engine: Embed over gRPC, the model kind in
 * ListModels/GetInfo, usage, refusals; concurrent requests get the vectors they get alone.
 */
class EmbeddingServingTest {

  @TempDir static Path dir;
  static InProcessWorker worker;
  static InferenceServiceGrpc.InferenceServiceBlockingStub stub;
  static final List<UsageEvent> usage = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(NativeGlmEngine.isAvailable(), NativeGlmEngine::unavailableReason);
    Path model = dir.resolve("bert.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.BERT, ModelPreset.BERT_TINY, WeightType.Q8_0, 3), model);
    WorkerProperties props =
        new WorkerProperties(
            "embed-test",
            model.toString(),
            "demo-embedding",
            "cpu",
            2,
            "",
            Duration.ofSeconds(5),
            GrpcServerProperties.onPort(0),
            // a small token budget, so that a large request is chunked across steps
            new WorkerProperties.Scheduler(16, 600, 1024, 64),
            new WorkerProperties.KvCache(16, DataSize.ofMegabytes(8), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    worker = InProcessWorker.start(props, usage::add);
    stub = worker.stub;
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
  }

  static EmbedRequest request(String id, String... texts) {
    EmbedRequest.Builder b = EmbedRequest.newBuilder().setRequestId(id).setModel("demo-embedding");
    for (String t : texts) {
      b.addInputs(EmbedInput.newBuilder().setText(t));
    }
    return b.setTenantId("t1").setKeyId("k1").build();
  }

  @Test
  void theModelIsListedAsAnEmbeddingModel() {
    ModelInfo m = stub.listModels(ListModelsRequest.getDefaultInstance()).getModels(0);
    assertThat(m.getKind()).isEqualTo("embedding");
    assertThat(m.getArchitecture()).isEqualTo("bert");
    assertThat(m.getEmbeddingDimensions()).isEqualTo(128);
    assertThat(m.getContextLength()).isEqualTo(512);
    assertThat(stub.getInfo(GetInfoRequest.getDefaultInstance()).getCapabilitiesList())
        .containsExactly("embeddings");
    var load = stub.watchLoad(WatchLoadRequest.getDefaultInstance()).next();
    assertThat(load.getState()).isEqualTo(WorkerState.READY);
    assertThat(load.getNumWaiting()).isZero();
  }

  @Test
  void vectorsAreUnitNormInOrderAndUsageIsCounted() {
    EmbedResponse r = stub.embed(request("e-1", "hello world", "你好，世界", "search query"));
    assertThat(r.getEmbeddingsCount()).isEqualTo(3);
    int tokens = 0;
    for (var e : r.getEmbeddingsList()) {
      assertThat(e.getValuesCount()).isEqualTo(128);
      double n = 0;
      for (float v : e.getValuesList()) {
        n += v * v;
      }
      assertThat(Math.sqrt(n)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
      tokens += e.getNumTokens();
    }
    assertThat(r.getPromptTokens()).isEqualTo(tokens);
    // the same text alone gives the same vector (batch invariance through the worker)
    EmbedResponse alone = stub.embed(request("e-2", "你好，世界"));
    assertThat(alone.getEmbeddings(0).getValuesList())
        .isEqualTo(r.getEmbeddings(1).getValuesList());
    UsageEvent u =
        usage.stream().filter(e -> e.getRequestId().equals("e-1")).findFirst().orElseThrow();
    assertThat(u.getPromptTokens()).isEqualTo(tokens);
    assertThat(u.getCompletionTokens()).isZero();
    assertThat(u.getTenantId()).isEqualTo("t1");
    assertThat(u.getModel()).isEqualTo("demo-embedding");
  }

  @Test
  void concurrentRequestsLargerThanOneStepGetTheirOwnVectors() throws Exception {
    String[] big = new String[40];
    for (int i = 0; i < big.length; i++) {
      big[i] = "text number " + i + " " + "a ".repeat(i * 3);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<EmbedResponse>> fs = new ArrayList<>();
      for (int k = 0; k < 4; k++) {
        int kk = k;
        fs.add(pool.submit(() -> stub.embed(request("c-" + kk, big))));
      }
      EmbedResponse first = fs.get(0).get();
      for (Future<EmbedResponse> f : fs) {
        assertThat(f.get().getEmbeddingsList()).isEqualTo(first.getEmbeddingsList());
      }
      for (int i = 0; i < big.length; i++) {
        EmbedResponse alone = stub.embed(request("a-" + i, big[i]));
        assertThat(alone.getEmbeddings(0)).isEqualTo(first.getEmbeddings(i));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void badInputsAreInvalidArgumentsNamingTheInput() {
    assertThatThrownBy(() -> stub.embed(request("b-1")))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("INVALID_ARGUMENT")
        .hasMessageContaining("inputs must not be empty");
    assertThatThrownBy(() -> stub.embed(request("b-2", "ok", "")))
        .hasMessageContaining("input[1] is an empty string");
    assertThatThrownBy(() -> stub.embed(request("b-3", "ok", "ok", "a ".repeat(600))))
        .hasMessageContaining("INVALID_ARGUMENT")
        .hasMessageContaining("input[2] has 602 tokens");
    EmbedRequest ids =
        EmbedRequest.newBuilder()
            .setRequestId("b-4")
            .addInputs(EmbedInput.newBuilder().setTokenIds(TokenIds.newBuilder().addIds(99999)))
            .build();
    assertThatThrownBy(() -> stub.embed(ids)).hasMessageContaining("input[0][0] = 99999");
    assertThatThrownBy(() -> stub.embed(request("b-5", "ok").toBuilder().setDimensions(64).build()))
        .hasMessageContaining("not a Matryoshka model");
    assertThatThrownBy(
            () ->
                stub.generate(
                        GenerateRequest.newBuilder().setRequestId("g").setText("hello").build())
                    .hasNext())
        .hasMessageContaining("is an embedding model");
    assertThat(usage.stream().filter(e -> e.getRequestId().startsWith("b-"))).isEmpty();
  }
}
