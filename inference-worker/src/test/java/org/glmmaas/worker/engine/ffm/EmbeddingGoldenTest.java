package org.glmmaas.worker.engine.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.text.WordPieceTokenizer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every input of every {@code glm-embed-golden-v1} file ({@code ../shared/reference2/golden}, plus
 * any folder in {@code glm.embed.golden.dirs}, each with its models in {@code ../models}): token
 * ids exactly, the normalised and raw vectors within the reference README's tolerances for the
 * model's weight type, all inputs of a file in one batch; and each input alone bit-identical to the
 * batch.
 */
class EmbeddingGoldenTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** Tolerances of ../shared/reference2/README.md by general.file_type. */
  record Tolerance(double norm2, double raw, double cosine) {
    static Tolerance of(int fileType) {
      return switch (fileType) {
        case 0 -> new Tolerance(1e-4, 2e-3, 0.99999);
        case 1 -> new Tolerance(5e-4, 5e-3, 0.99999);
        default -> new Tolerance(1e-2, 0.15, 0.9995);
      };
    }
  }

  static List<Path> goldenDirs() {
    List<Path> dirs = new ArrayList<>();
    String shared = System.getProperty("glm.shared.dir");
    if (shared != null && Files.isDirectory(Path.of(shared, "reference2/golden"))) {
      dirs.add(Path.of(shared, "reference2/golden"));
    }
    for (String d :
        System.getProperty("glm.embed.golden.dirs", "").split(java.io.File.pathSeparator)) {
      if (!d.isBlank() && Files.isDirectory(Path.of(d))) {
        dirs.add(Path.of(d));
      }
    }
    return dirs;
  }

  static Stream<Arguments> goldenFiles() throws IOException {
    List<Arguments> files = new ArrayList<>();
    for (Path dir : goldenDirs()) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path f : s.sorted().toList()) {
          if (f.getFileName().toString().matches(".*\\.inputs-.*\\.json")) {
            files.add(Arguments.of(Named.of(f.getFileName().toString(), f)));
          }
        }
      }
    }
    if (files.isEmpty()) {
      files.add(Arguments.of(Named.of("no reference2 files", null)));
    }
    return files.stream();
  }

  @ParameterizedTest
  @MethodSource("goldenFiles")
  void matchesLlamaCpp(Path file) {
    assumeTrue(file != null, "../shared/reference2 not present (glm.shared.dir)");
    NativeTestSupport.assumeLibrary();
    JsonNode root = JSON.readTree(file.toFile());
    assertThat(root.get("schema").asString()).isEqualTo("glm-embed-golden-v1");
    Path modelFile =
        file.getParent().resolveSibling("models").resolve(root.get("model_file").asString());
    JsonNode inputs = root.get("inputs");
    int numInputs = inputs.size();
    int[][] ids = new int[numInputs][];
    try (NativeEmbedder e = NativeEmbedder.open(modelFile, 2, 1 << 16)) {
      WordPieceTokenizer tok = WordPieceTokenizer.fromMetadata(e.model().metadata());
      assertThat(e.dimensions()).isEqualTo(root.get("n_embd").asInt());
      assertThat(e.pooling().name().toLowerCase()).isEqualTo(root.get("pooling").asString());
      for (int i = 0; i < numInputs; i++) {
        JsonNode in = inputs.get(i);
        ids[i] = tok.encode(in.get("text").asString(), true, true);
        assertThat(ids[i]).as(in.get("id").asString()).containsExactly(ints(in.get("token_ids")));
      }
      Tolerance tol = Tolerance.of(e.model().hparams().fileType());
      float[][] batched = e.embed(ids);
      double worstNorm = 0;
      double worstRaw = 0;
      for (int i = 0; i < numInputs; i++) {
        JsonNode in = inputs.get(i);
        String id = in.get("id").asString();
        float[] norm2 = NativeEmbedder.normalize(batched[i]);
        double[] goldNorm = doubles(in.get("embedding_norm2"));
        double[] goldRaw = doubles(in.get("embedding_raw"));
        worstNorm = Math.max(worstNorm, maxAbsDiff(norm2, goldNorm));
        worstRaw = Math.max(worstRaw, maxAbsDiff(batched[i], goldRaw));
        assertThat(maxAbsDiff(norm2, goldNorm))
            .as(id + " embedding_norm2")
            .isLessThanOrEqualTo(tol.norm2);
        assertThat(maxAbsDiff(batched[i], goldRaw))
            .as(id + " embedding_raw")
            .isLessThanOrEqualTo(tol.raw);
        assertThat(cosine(batched[i], goldRaw))
            .as(id + " cosine")
            .isGreaterThanOrEqualTo(tol.cosine);
        float[] single = e.embed(new int[][] {ids[i]})[0];
        assertThat(single).as(id + " alone equals batched").containsExactly(batched[i]);
      }
      System.err.printf(
          "%s: %d inputs, max |diff| embedding_norm2 %.2e, embedding_raw %.2e%n",
          file.getFileName(), numInputs, worstNorm, worstRaw);
    }
  }

  @Test
  void tooLongEmptyAndForeignInputsAreClearErrors() {
    String shared = System.getProperty("glm.shared.dir");
    assumeTrue(shared != null && Files.isDirectory(Path.of(shared, "reference2/models")));
    NativeTestSupport.assumeLibrary();
    Path model = Path.of(shared, "reference2/models/tiny-bert-f32.gguf");
    try (NativeEmbedder e = NativeEmbedder.open(model, 2, 4096)) {
      int[] ok = {101, 102};
      int[] tooLong = new int[e.maxInputTokens() + 1];
      assertThatThrownBy(() -> e.embed(new int[][] {ok, tooLong}))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("input 1 has 513 tokens")
          .hasMessageContaining("at most 512");
      assertThatThrownBy(() -> e.embed(new int[][] {ok, ok, {}}))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("input 2 is empty");
      assertThatThrownBy(() -> e.embed(new int[][] {{101, 99999, 102}}))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("outside");
      // the context survives the refusals
      assertThat(e.embed(new int[][] {ok})[0]).hasSize(e.dimensions());
    }
  }

  @Test
  void aGenerativeModelIsNotAnEmbedder() {
    NativeTestSupport.assumeLibrary();
    Path model = NativeTestSupport.referenceDir().resolve("models/tiny-glm4-f32.gguf");
    assumeTrue(Files.exists(model));
    assertThatThrownBy(() -> NativeEmbedder.open(model, 1, 512))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("not an embedding model");
  }

  static int[] ints(JsonNode a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asInt();
    }
    return out;
  }

  static double[] doubles(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asDouble();
    }
    return out;
  }

  static double maxAbsDiff(float[] a, double[] b) {
    assertThat(a).hasSize(b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  static double cosine(float[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
