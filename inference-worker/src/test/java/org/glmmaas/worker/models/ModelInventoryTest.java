package org.glmmaas.worker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.glmmaas.worker.gguf.GgmlType;
import org.glmmaas.worker.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code glm models} describes K-quant files (mixed tensor types) as the engine runs them. */
class ModelInventoryTest {

  @TempDir Path dir;

  /** A Q4_K_M-style file: Q4_K matrices, a Q6_K head, an F32 norm (tensor bytes are zeros). */
  private Path q4KmFile() throws Exception {
    GgufWriter w =
        new GgufWriter()
            .putString("general.architecture", "glm4")
            .putUint32("general.file_type", 15)
            .putUint32("glm4.context_length", 2048)
            .putUint32("glm4.block_count", 1)
            .putUint32("glm4.embedding_length", 256)
            .putUint32("glm4.attention.head_count", 4)
            .putUint32("glm4.attention.head_count_kv", 2)
            .putUint32("glm4.attention.key_length", 64);
    w.addTensor(
        "blk.0.ffn_up.weight",
        GgmlType.Q4_K,
        new long[] {256, 512},
        new byte[(int) GgmlType.Q4_K.rowBytes(256) * 512]);
    w.addTensor(
        "blk.0.ffn_down.weight",
        GgmlType.Q5_K,
        new long[] {256, 256},
        new byte[(int) GgmlType.Q5_K.rowBytes(256) * 256]);
    w.addTensor(
        "output.weight",
        GgmlType.Q6_K,
        new long[] {256, 64},
        new byte[(int) GgmlType.Q6_K.rowBytes(256) * 64]);
    w.addTensor("output_norm.weight", GgmlType.F32, new long[] {256}, new byte[256 * 4]);
    Path p = dir.resolve("glm-k.gguf");
    w.write(p);
    return p;
  }

  @Test
  void aKQuantFileIsDescribedByItsFileTypeAndRuns() throws Exception {
    ModelInventory.LocalModel m = ModelInventory.describe(q4KmFile());
    assertThat(m.error()).isNull();
    assertThat(m.fileType()).isEqualTo("Q4_K_M");
    assertThat(m.tensorTypes()).isEqualTo(Map.of("Q4_K", 1, "Q5_K", 1, "Q6_K", 1, "F32", 1));
    assertThat(m.unsupportedTypes()).isEmpty();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(
            ModelsCommand.run(
                new String[] {"--models-dir", dir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err,
                Map.of()))
        .isZero();
    String table = out.toString(StandardCharsets.UTF_8);
    assertThat(table)
        .contains("glm-k")
        .contains("Q4_K_M")
        .contains("F32x1 Q4_Kx1 Q5_Kx1 Q6_Kx1")
        .doesNotContain("cannot run")
        // the footer's factors are the worker's memory plan's (it said "x 2" at the peak)
        .contains(
            "MEMORY = weights x 1.1 (the CPU engine repacks them; x 1.2 at the peak while loading)");
    out.reset();
    ModelsCommand.run(
        new String[] {"--models-dir", dir.toString(), "--json"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        System.err,
        Map.of());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("\"file_type\":\"Q4_K_M\"")
        .contains("\"runs\":true");
  }

  @Test
  void aMixtureOfExpertsFileShowsItsExpertsAndActiveParameters() throws Exception {
    // 8 experts of which 2 are used: 3 x 8 x (64 x 32) expert weights, 1,000 other parameters
    GgufWriter w =
        new GgufWriter()
            .putString("general.architecture", "glm4moe")
            .putUint32("general.file_type", 0)
            .putUint32("glm4moe.context_length", 2048)
            .putUint32("glm4moe.block_count", 1)
            .putUint32("glm4moe.embedding_length", 64)
            .putUint32("glm4moe.expert_count", 8)
            .putUint32("glm4moe.expert_used_count", 2);
    for (String t : new String[] {"gate", "up", "down"}) {
      w.addTensor(
          "blk.0.ffn_" + t + "_exps.weight",
          GgmlType.F32,
          new long[] {64, 32, 8},
          new byte[64 * 32 * 8 * 4]);
    }
    w.addTensor("output_norm.weight", GgmlType.F32, new long[] {1000}, new byte[1000 * 4]);
    w.write(dir.resolve("moe.gguf"));

    ModelInventory.LocalModel m = ModelInventory.describe(dir.resolve("moe.gguf"));
    assertThat(m.experts()).isEqualTo(8);
    assertThat(m.expertsUsed()).isEqualTo(2);
    assertThat(m.numParameters()).isEqualTo(3 * 8 * 64 * 32 + 1000);
    assertThat(m.activeParameters()).isEqualTo(3 * 2 * 64 * 32 + 1000);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelsCommand.run(
        new String[] {"--models-dir", dir.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        System.err,
        Map.of());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("EXPERTS/ACTIVE")
        .contains("2 of 8, 13.3K");
    out.reset();
    ModelsCommand.run(
        new String[] {"--models-dir", dir.toString(), "--json"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        System.err,
        Map.of());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("\"experts\":8,\"experts_used\":2,\"active_parameters\":13288");
  }

  @Test
  void typesTheEngineDoesNotRunAreNamed() {
    ModelInventory.LocalModel m =
        new ModelInventory.LocalModel(
            dir.resolve("x.gguf"),
            "x",
            "glm4",
            1,
            "Q3_K_M",
            Map.of("Q3_K", 10, "Q4_K", 3, "F32", 2),
            2048,
            100,
            0,
            null);
    assertThat(m.unsupportedTypes()).containsExactly("Q3_K");
  }

  @Test
  void theReferenceKQuantModelsAreDescribedCorrectly() throws Exception {
    String shared = System.getProperty("glm.shared.dir");
    assumeTrue(shared != null, "glm.shared.dir is not set");
    Path q4km = Path.of(shared, "reference", "models", "small-glm4-q4_k_m.gguf");
    Path q6k = Path.of(shared, "reference", "models", "small-glm4-q6_k.gguf");
    assumeTrue(
        Files.isReadable(q4km) && Files.isReadable(q6k), "K-quant reference models are absent");
    ModelInventory.LocalModel a = ModelInventory.describe(q4km);
    assertThat(a.fileType()).isEqualTo("Q4_K_M");
    assertThat(a.tensorTypes()).containsKeys("Q4_K", "Q6_K");
    assertThat(a.unsupportedTypes()).isEmpty();
    ModelInventory.LocalModel b = ModelInventory.describe(q6k);
    assertThat(b.fileType()).isEqualTo("Q6_K");
    assertThat(b.unsupportedTypes()).isEmpty();
  }
}
