package org.glmmaas.worker.engine.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.engine.ForwardBatch;
import org.glmmaas.worker.engine.GreedyGenerator;
import org.glmmaas.worker.gguf.GgmlType;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The binding over a made model: hparams, metadata, tensors, steps, errors, lifecycle. */
class NativeGlmEngineTest {

  @TempDir Path dir;

  @Test
  void aMadeModelLoadsDescribesItselfAndGenerates() throws Exception {
    NativeTestSupport.assumeLibrary();
    Path model = NativeTestSupport.make(dir, ModelArch.GLM4, ModelPreset.TINY, WeightType.Q4_0, 9);
    try (NativeGlmEngine e = NativeGlmEngine.open(model, NativeTestSupport.small(16))) {
      ModelHparams h = e.hparams();
      assertThat(h.architecture()).isEqualTo("glm4");
      assertThat(
              List.of(
                  h.vocabSize(),
                  h.embeddingLength(),
                  h.numLayers(),
                  h.numHeads(),
                  h.numKvHeads(),
                  h.headDim(),
                  h.numRot(),
                  h.feedForwardLength(),
                  h.contextLength()))
          .containsExactly(1536, 128, 2, 4, 2, 32, 16, 352, 512);
      assertThat(h.rmsNormEps()).isEqualTo(1e-5f);
      assertThat(e.info().vocabSize()).isEqualTo(1536);
      assertThat(e.info().kvBlockSize()).isEqualTo(16);
      assertThat(e.info().numKvBlocks()).isEqualTo(16);
      assertThat(e.info().kvBlockBytes()).isPositive();
      assertThat(e.options().numThreads()).isEqualTo(2);
      assertThat(e.options().kvType()).isEqualTo(EngineOptions.KvType.F32);

      // metadata through the engine equals the pure-Java reader's, key by key
      GgufMetadata fromEngine = e.metadata();
      GgufMetadata fromFile = GgufReader.read(model).metadata();
      assertThat(fromEngine.values().keySet()).isEqualTo(fromFile.values().keySet());
      fromFile
          .values()
          .forEach((k, v) -> assertThat(fromEngine.values().get(k)).as(k).isEqualTo(v));
      assertThat(fromEngine.strings("tokenizer.ggml.tokens").orElseThrow()).hasSize(1536);

      List<NativeTensorInfo> tensors = e.tensors();
      assertThat(tensors).hasSize(GgufReader.read(model).tensors().size());
      assertThat(tensors)
          .filteredOn(t -> t.name().equals("output.weight"))
          .singleElement()
          .satisfies(t -> assertThat(t.ggmlType()).isEqualTo(GgmlType.Q8_0.id));

      GreedyGenerator g = new GreedyGenerator(e, 512);
      int[] prompt = {1502, 1504, 1507, 10, 72, 105, 1508, 10};
      var first = g.run(List.of(prompt), 12, 5, false).getFirst();
      var again = g.run(List.of(prompt), 12, 5, false).getFirst();
      assertThat(first.greedyIds()).hasSize(12).containsExactly(again.greedyIds());
      assertThat(java.util.Arrays.stream(first.greedyIds()).boxed().toList())
          .allSatisfy(id -> assertThat(id).isBetween(0, 1535));
      assertThat(first.top()).hasSize(5);
      assertThat(first.top().get(0).id()).isEqualTo(first.greedyIds()[0]);
    }
  }

  @Test
  void badBatchesAreEngineExceptionsWithTheNativeMessage() throws Exception {
    NativeTestSupport.assumeLibrary();
    Path model =
        NativeTestSupport.make(dir, ModelArch.CHATGLM, ModelPreset.TINY, WeightType.F32, 2);
    try (NativeGlmEngine e = NativeGlmEngine.open(model, NativeTestSupport.small(4))) {
      // a token id past the vocabulary
      assertThatThrownBy(
              () ->
                  e.forward(
                      new ForwardBatch(
                          new int[] {99999},
                          new int[] {0},
                          new int[] {0},
                          new int[] {0},
                          new int[][] {{0}},
                          new int[] {0})))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("INVALID_ARGUMENT");
      // a slot outside the pool
      assertThatThrownBy(
              () ->
                  e.forward(
                      new ForwardBatch(
                          new int[] {1},
                          new int[] {0},
                          new int[] {0},
                          new int[] {4 * 16},
                          new int[][] {{0}},
                          new int[] {0})))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("INVALID_ARGUMENT");
      // a position past the block table
      assertThatThrownBy(
              () ->
                  e.forward(
                      new ForwardBatch(
                          new int[] {1},
                          new int[] {0},
                          new int[] {16},
                          new int[] {0},
                          new int[][] {{0}},
                          new int[] {0})))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("INVALID_ARGUMENT");
      // arrays that disagree are caught before the native call
      assertThatThrownBy(
              () ->
                  e.forward(
                      new ForwardBatch(
                          new int[] {1, 2},
                          new int[] {0},
                          new int[] {0},
                          new int[] {0},
                          new int[][] {{0}},
                          new int[] {0})))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("disagree");
      // and the engine still works afterwards
      FloatBuffer logits =
          e.forward(
              new ForwardBatch(
                  new int[] {1},
                  new int[] {0},
                  new int[] {0},
                  new int[] {0},
                  new int[][] {{0}},
                  new int[] {0}));
      assertThat(logits.remaining()).isEqualTo(1536);
    }
  }

  @Test
  void aClosedEngineRefusesWork() throws Exception {
    NativeTestSupport.assumeLibrary();
    Path model = NativeTestSupport.make(dir, ModelArch.GLM4, ModelPreset.TINY, WeightType.F16, 3);
    NativeGlmEngine e = NativeGlmEngine.open(model, NativeTestSupport.small(4));
    e.close();
    e.close();
    assertThatThrownBy(e::metadata)
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void libraryReportsItsBuild() {
    NativeTestSupport.assumeLibrary();
    assertThat(NativeGlmEngine.systemInfo()).contains("cpu");
  }
}
