package org.glmmaas.worker.engine.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.glmmaas.worker.text.WordPieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The encoder path over made bert models: batch and thread invariance, bad files. */
class BertEngineTest {

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(
      value = WeightType.class,
      names = {"F32", "F16", "Q8_0"})
  void anInputsVectorDoesNotDependOnItsBatchOrThreads(WeightType type) throws Exception {
    NativeTestSupport.assumeLibrary();
    Path f = NativeTestSupport.make(dir, ModelArch.BERT, ModelPreset.BERT_TINY, type, 7);
    String[] texts = {
      "hello world", "", "你好，世界！GLM embedding models", "a ".repeat(300), "search query"
    };
    float[][] batched;
    int[][] ids = new int[texts.length][];
    try (NativeEmbedder e = NativeEmbedder.open(f, 2, 2048)) {
      WordPieceTokenizer tok = WordPieceTokenizer.fromMetadata(e.model().metadata());
      for (int i = 0; i < texts.length; i++) {
        ids[i] = tok.encode(texts[i], true, true);
      }
      assertThat(ids[1]).containsExactly(101, 102);
      batched = e.embed(ids);
      assertThat(batched).hasNumberOfRows(texts.length);
      for (int i = 0; i < texts.length; i++) {
        assertThat(batched[i]).hasSize(ModelPreset.BERT_TINY.embeddingLength());
        assertThat(e.embed(new int[][] {ids[i]})[0])
            .as("input %d alone", i)
            .containsExactly(batched[i]);
      }
      // different inputs give different vectors
      assertThat(batched[0]).isNotEqualTo(batched[4]);
    }
    try (NativeEmbedder one = NativeEmbedder.open(f, 1, 2048)) {
      int[][] reversed = new int[ids.length][];
      for (int i = 0; i < ids.length; i++) {
        reversed[i] = ids[ids.length - 1 - i];
      }
      float[][] r = one.embed(reversed);
      for (int i = 0; i < ids.length; i++) {
        assertThat(r[ids.length - 1 - i])
            .as("input %d, 1 thread, reversed", i)
            .containsExactly(batched[i]);
      }
    }
  }

  @Test
  void aFileWithoutPositionEmbeddingsIsAnExceptionNamingTheTensor() throws Exception {
    NativeTestSupport.assumeLibrary();
    Path f = NativeTestSupport.make(dir, ModelArch.BERT, ModelPreset.BERT_TINY, WeightType.F32, 1);
    byte[] b = Files.readAllBytes(f);
    String s =
        new String(b, StandardCharsets.ISO_8859_1)
            .replace("position_embd.weight", "position_embX.weight");
    Path bad = dir.resolve("bad.gguf");
    Files.write(bad, s.getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> NativeEmbedder.open(bad, 1, 512))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("position_embd.weight");
  }

  @Test
  void anEmbeddingModelRefusesTheGenerativeStep() throws Exception {
    NativeTestSupport.assumeLibrary();
    Path f = NativeTestSupport.make(dir, ModelArch.BERT, ModelPreset.BERT_TINY, WeightType.F32, 1);
    try (NativeGlmEngine g = NativeGlmEngine.open(f, NativeTestSupport.small(4))) {
      assertThatThrownBy(
              () ->
                  g.forward(
                      new org.glmmaas.worker.engine.ForwardBatch(
                          new int[] {101},
                          new int[] {0},
                          new int[] {0},
                          new int[] {0},
                          new int[][] {{0}},
                          new int[] {0})))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("embedding model");
    }
  }
}
