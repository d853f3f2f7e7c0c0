package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.engine.ffm.EngineOptions;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.engine.ffm.NativeGlmModel;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/**
 * Memory planning at load on the native engine, with the available memory faked: a model that does
 * not fit is refused with numbers before any engine context (repacked weights, KV pool, threads)
 * exists; one that fits loads and serves.
 */
class NativeModelLoaderMemoryTest {

  @TempDir static Path dir;
  static Path model;
  static Path moe;

  @BeforeAll
  static void makeModel() throws Exception {
    assumeTrue(
        NativeGlmEngine.isAvailable(),
        () -> "libglm not loadable: " + NativeGlmEngine.unavailableReason());
    model = dir.resolve("tiny-glm4-q8_0.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4, ModelPreset.TINY, WeightType.Q8_0, 1), model);
    moe = dir.resolve("small-glm4moe-q8_0.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4MOE, ModelPreset.SMALL, WeightType.Q8_0, 1), moe);
  }

  static WorkerProperties props(DataSize kvBudget) {
    return props(model, kvBudget);
  }

  static WorkerProperties props(Path model, DataSize kvBudget) {
    return new WorkerProperties(
        "mem-test",
        model.toString(),
        "",
        "cpu",
        2,
        "",
        Duration.ofSeconds(1),
        GrpcServerProperties.onPort(0),
        new WorkerProperties.Scheduler(4, 64, 0, 8),
        new WorkerProperties.KvCache(16, kvBudget, "f16", true),
        new WorkerProperties.LoadReport(Duration.ofMillis(100)));
  }

  static AvailableMemory fake(long bytes) {
    return () -> Optional.of(new AvailableMemory.Reading(bytes, "fake MemAvailable"));
  }

  @Test
  void aModelThatDoesNotFitIsRefusedWithNumbersBeforeAnyContextIsCreated() {
    long contexts = NativeGlmEngine.numContextsCreated();
    NativeModelLoader loader = new NativeModelLoader(fake(50_000_000L));

    assertThatThrownBy(() -> loader.load(props(DataSize.ofMegabytes(64))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "model tiny-glm4-q8_0.gguf needs 0.00 GB of weights x 1.1 = 0.00 GB once loaded")
        .hasMessageContaining("+ 0.07 GB KV (glm.worker.kv-cache.memory) + ")
        .hasMessageContaining("at the peak), but 0.05 GB is available (fake MemAvailable)")
        .hasMessageEndingWith("lower glm.worker.kv-cache.memory or use a smaller quantisation");
    assertThat(NativeGlmEngine.numContextsCreated()).as("contexts created").isEqualTo(contexts);
  }

  /** The loader's plan for the MoE model, with the expert bytes the engine reports. */
  static MemoryPlan moePlan(WorkerProperties props) {
    try (NativeGlmModel m = NativeGlmModel.open(moe)) {
      long block = m.kvBlockBytes(16, EngineOptions.KvType.F16);
      return NativeModelLoader.plan(
          props, moe, m.hparams(), block, m.expertBytes(), MemoryPlan.MoeShape.of(m.metadata()));
    }
  }

  @Test
  void aMixtureOfExpertsModelWhoseExpertsDoNotFitLoadsWithExpertsFromDiskAndRuns() {
    WorkerProperties props = props(moe, DataSize.ofMegabytes(1));
    MemoryPlan plan = moePlan(props);
    assertThat(plan.expertBytes()).as("expert bytes").isGreaterThan(1_000_000L);
    // the scratch counts the MoE buffers of max-num-batched-tokens rows
    try (NativeGlmModel m = NativeGlmModel.open(moe)) {
      MemoryPlan.MoeShape shape = MemoryPlan.MoeShape.of(m.metadata());
      assertThat(shape.experts()).isEqualTo(8);
      MemoryPlan dense =
          NativeModelLoader.plan(
              props,
              moe,
              m.hparams(),
              m.kvBlockBytes(16, EngineOptions.KvType.F16),
              m.expertBytes(),
              MemoryPlan.MoeShape.NONE);
      assertThat(plan.scratchBytes() - dense.scratchBytes())
          .isEqualTo(
              MemoryPlan.moeScratchBytes(
                  m.hparams().embeddingLength(), shape, props.scheduler().maxNumBatchedTokens()))
          .isPositive();
    }
    // between the resident size with experts on disk and the size with them repacked in memory
    long between = (plan.expertsFromDiskBytes() + plan.steadyBytes()) / 2;
    long contexts = NativeGlmEngine.numContextsCreated();
    try (LoadedModel loaded = new NativeModelLoader(fake(between)).load(props)) {
      assertThat(loaded.description().architecture()).isEqualTo("glm4moe");
      try (Engine engine = loaded.createEngine(64, 16, "f16")) {
        assertThat(NativeGlmEngine.numContextsCreated()).isEqualTo(contexts + 1);
        assertThat(engine.info().numKvBlocks()).isEqualTo(64);
      }
    }
    // below even that: refused, with both numbers
    assertThatThrownBy(
            () -> new NativeModelLoader(fake(plan.expertsFromDiskBytes() - 1)).load(props))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("model small-glm4moe-q8_0.gguf needs")
        .hasMessageContaining(
            "even with its routed experts ("
                + MemoryPlan.gb(plan.expertBytes())
                + ") left on disk it needs "
                + MemoryPlan.gb(plan.expertsFromDiskBytes()));
  }

  @Test
  void aKvBudgetBelowOneBlockIsRefusedWithTheBlockSize() {
    long contexts = NativeGlmEngine.numContextsCreated();
    NativeModelLoader loader = new NativeModelLoader(fake(Long.MAX_VALUE));
    // tiny: 2 layers x 2 KV heads x 32 dims x 16 tokens x K and V x f16 = 8192 bytes a block
    assertThatThrownBy(() -> loader.load(props(DataSize.ofBytes(4000))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "glm.worker.kv-cache.memory (4000 bytes) is below one KV block of tiny-glm4-q8_0.gguf")
        .hasMessageContaining("= 8192 bytes); raise it to at least 8192 bytes");
    assertThat(NativeGlmEngine.numContextsCreated()).isEqualTo(contexts);
  }

  @Test
  void aModelThatFitsLoadsAndItsEngineRuns() {
    long contexts = NativeGlmEngine.numContextsCreated();
    try (LoadedModel loaded =
        new NativeModelLoader(fake(64L << 30)).load(props(DataSize.ofMegabytes(1)))) {
      assertThat(NativeGlmEngine.numContextsCreated())
          .as("load alone creates no context")
          .isEqualTo(contexts);
      assertThat(loaded.description().quantization()).isEqualTo("Q8_0");
      assertThat(loaded.kvBlockBytes(16, "f16")).isEqualTo(8192);
      try (Engine engine = loaded.createEngine(128, 16, "f16")) {
        assertThat(engine.info().numKvBlocks()).isEqualTo(128);
        assertThat(NativeGlmEngine.numContextsCreated()).isEqualTo(contexts + 1);
      }
    }
  }

  @Test
  void theWorkerReportsTheRefusalAndStaysOutOfReady() {
    WorkerRuntime runtime =
        new WorkerRuntime(
            props(DataSize.ofMegabytes(64)),
            new NativeModelLoader(fake(1_000_000L)),
            e -> {},
            org.glmmaas.worker.scheduler.SchedulerObserver.NONE,
            java.time.Clock.systemUTC());
    runtime.start();
    assertThat(runtime.isReady()).isFalse();
    assertThat(runtime.failure())
        .startsWith("model load failed: model tiny-glm4-q8_0.gguf needs")
        .contains("but 0.00 GB is available (fake MemAvailable)");
  }
}
