package org.glmmaas.worker.engine.ffm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;

/** Shared by the native engine tests: skip without the library or the reference data. */
final class NativeTestSupport {

  /** A model small enough to write thousands of times: 1 layer, n_embd 64. */
  static final ModelPreset MICRO =
      new ModelPreset("micro", 64, 1, 2, 1, 32, 16, 128, 64, 1536, 10000f, 1e-5f);

  private NativeTestSupport() {}

  static void assumeLibrary() {
    assumeTrue(
        NativeGlmEngine.isAvailable(),
        () -> "libglm not loadable here: " + NativeGlmEngine.unavailableReason());
  }

  /** ../shared/reference (or -Dglm.reference.dir), skipping when absent. */
  static Path referenceDir() {
    String explicit = System.getProperty("glm.reference.dir");
    Path dir;
    if (explicit != null && !explicit.isBlank()) {
      dir = Path.of(explicit);
    } else {
      String shared = System.getProperty("glm.shared.dir");
      assumeTrue(shared != null, "glm.shared.dir is not set");
      dir = Path.of(shared).resolve("reference");
    }
    assumeTrue(Files.isDirectory(dir.resolve("golden")), () -> dir + "/golden is absent");
    return dir;
  }

  static Path make(Path dir, ModelArch arch, ModelPreset preset, WeightType type, long seed)
      throws IOException {
    Path f =
        dir.resolve(arch.ggufName + "-" + preset.name() + "-" + type.name() + "-" + seed + ".gguf");
    ModelMaker.make(new ModelMaker.Spec(arch, preset, type, seed), f);
    return f;
  }

  static EngineOptions small(int blocks) {
    return EngineOptions.defaults()
        .withThreads(2)
        .withKvType(EngineOptions.KvType.F32)
        .withKvBlockSize(16)
        .withKvBlocks(blocks)
        .withMaxBatchTokens(512)
        .withMaxBatchSeqs(32);
  }
}
