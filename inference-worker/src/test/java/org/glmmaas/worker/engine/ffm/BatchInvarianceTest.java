package org.glmmaas.worker.engine.ffm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.glmmaas.worker.engine.GreedyGenerator;
import org.glmmaas.worker.engine.GreedyGenerator.Output;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A sequence's logits are bit-identical whether it runs alone or inside a batch of 16 other
 * sequences at other positions (and in other KV blocks), and with 1 or 2 threads: so a seeded
 * request returns the same text under any load.
 */
class BatchInvarianceTest {

  private static final int GEN = 8;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({"GLM4, SMALL, Q8_0", "GLM4, SMALL, Q4_0", "CHATGLM, TINY, F16", "GLM4, TINY, F32"})
  void logitsDoNotDependOnTheBatchOrTheThreadCount(ModelArch arch, String preset, WeightType type)
      throws Exception {
    NativeTestSupport.assumeLibrary();
    ModelPreset p = ModelPreset.parse(preset);
    Path model = NativeTestSupport.make(dir, arch, p, type, 77);
    SplittableRandom rng = new SplittableRandom(5);
    int[] target = random(rng, 37, p.vocabSize());
    List<int[]> batch = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      batch.add(random(rng, 1 + rng.nextInt(60), p.vocabSize()));
    }
    batch.add(7, target);
    int blocks = GreedyGenerator.blocksFor(batch, GEN, 16) + 8;

    Output alone1;
    Output alone2;
    Output inBatch;
    try (NativeGlmEngine one =
        NativeGlmEngine.open(model, NativeTestSupport.small(blocks).withThreads(1))) {
      alone1 = new GreedyGenerator(one, 512).run(List.of(target), GEN, 5, true, 3).getFirst();
    }
    try (NativeGlmEngine two =
        NativeGlmEngine.open(model, NativeTestSupport.small(blocks).withThreads(2))) {
      alone2 = new GreedyGenerator(two, 512).run(List.of(target), GEN, 5, true, 0).getFirst();
      inBatch = new GreedyGenerator(two, 512).run(batch, GEN, 5, true, 2).get(7);
    }
    assertThat(alone1.greedyIds()).containsExactly(alone2.greedyIds());
    assertThat(inBatch.greedyIds()).containsExactly(alone2.greedyIds());
    for (int k = 0; k < GEN; k++) {
      assertThat(alone2.stepLogits().get(k))
          .as("step %d, 1 vs 2 threads", k)
          .containsExactly(alone1.stepLogits().get(k));
      assertThat(inBatch.stepLogits().get(k))
          .as("step %d, alone vs among 16 others", k)
          .containsExactly(alone2.stepLogits().get(k));
    }
  }

  private static int[] random(SplittableRandom rng, int n, int vocab) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = rng.nextInt(vocab);
    }
    return p;
  }
}
