package org.glmmaas.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.glmmaas.worker.scheduler.SchedulerObserver;
import org.glmmaas.worker.text.SyntheticVocab;
import org.glmmaas.worker.text.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/**
 * A model with GLM-4's real vocabulary size (151,552 tokens and their merges, synthetic), written
 * with the project's GGUF writer, loads through the worker's real path (native GGUF loader ->
 * metadata -> tokenizer -> engine warm-up) and round-trips text. Speed is the benchmark's job
 * (VocabularyLoadBenchmark), not this test's.
 */
class RealVocabularyScaleTest {

  static final int GLM4_VOCAB = 151_552;

  @TempDir Path dir;

  @Test
  void aFullSizeVocabularyLoadsThroughTheWorkerAndRoundTripsText() throws Exception {
    assumeTrue(
        NativeGlmEngine.isAvailable(),
        () -> "libglm not loadable: " + NativeGlmEngine.unavailableReason());
    SyntheticVocab vocab = SyntheticVocab.build(SyntheticVocab.SAMPLE, GLM4_VOCAB, 5);
    ModelPreset preset =
        new ModelPreset("micro-151k", 64, 1, 2, 1, 32, 16, 128, 256, GLM4_VOCAB, 10000f, 1e-5f);
    Path model = dir.resolve("micro-151k.gguf");
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4, preset, WeightType.Q8_0, 1),
        vocab.toBpeVocabulary(),
        model);

    WorkerProperties props =
        new WorkerProperties(
            "vocab-test",
            model.toString(),
            "",
            "cpu",
            2,
            "",
            Duration.ofSeconds(1),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(4, 64, 0, 8),
            new WorkerProperties.KvCache(16, DataSize.ofMegabytes(1), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    WorkerRuntime runtime =
        new WorkerRuntime(
            props, new NativeModelLoader(), e -> {}, SchedulerObserver.NONE, Clock.systemUTC());
    try {
      runtime.start();
      assertThat(runtime.isReady()).as(String.valueOf(runtime.failure())).isTrue();
      assertThat(runtime.description().vocabSize()).isEqualTo(GLM4_VOCAB);
      assertThat(runtime.engine().info().vocabSize()).isEqualTo(GLM4_VOCAB);

      Tokenizer loaded = runtime.textModel().tokenizer();
      Tokenizer inMemory = vocab.tokenizer();
      String text = SyntheticVocab.SAMPLE + " 未登录的字 ünïcödé ⅀ and the unseen word zyxwvut";
      int[] ids = loaded.encode(text, false);
      assertThat(ids)
          .as("same ids as the vocabulary built in memory")
          .isEqualTo(inMemory.encode(text, false));
      assertThat(ids.length)
          .as("merges applied")
          .isLessThan(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length * 3 / 4);
      assertThat(loaded.decode(ids)).isEqualTo(text);
      int[] specials = loaded.encode("<|user|>\nhi<|assistant|>", true);
      assertThat(specials[0]).isEqualTo(GLM4_VOCAB - SyntheticVocab.SPECIALS.length + 7);
    } finally {
      runtime.drainAndStop(Duration.ZERO);
    }
  }
}
