package org.glmmaas.worker.text.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;
import org.glmmaas.worker.engine.ffm.NativeGlmModel;
import org.glmmaas.worker.gguf.GgufReader;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.glmmaas.worker.text.SyntheticVocab;
import org.glmmaas.worker.text.TextModel;

/**
 * Vocabulary load time (151,552 tokens + merges, GGUF -> text model) in CPU time of the loading
 * thread, for a shared machine where wall-clock figures mostly measure the neighbours: the first
 * load in a fresh JVM (what a starting worker pays) and the median of 15 more. Wall time is printed
 * beside it. {@code java --enable-native-access=ALL-UNNAMED -cp ...
 * org.glmmaas.worker.text.bench.VocabularyLoadCpuTime}.
 */
public final class VocabularyLoadCpuTime {

  private VocabularyLoadCpuTime() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("vocab-cpu");
    Path model = dir.resolve("micro-151k.gguf");
    SyntheticVocab vocab =
        SyntheticVocab.build(
            BenchCorpus.mixedText(24_000, 7), VocabularyLoadBenchmark.GLM4_VOCAB, 1, 6000);
    ModelPreset preset =
        new ModelPreset(
            "micro-151k",
            64,
            1,
            2,
            1,
            32,
            16,
            128,
            256,
            VocabularyLoadBenchmark.GLM4_VOCAB,
            10000f,
            1e-5f);
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4, preset, WeightType.Q8_0, 1),
        vocab.toBpeVocabulary(),
        model);
    String which = args.length > 0 ? args[0] : "native";
    Supplier<TextModel> load =
        which.equals("java")
            ? () -> {
              try {
                return TextModel.fromMetadata(GgufReader.read(model).metadata());
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }
            : () -> {
              try (NativeGlmModel m = NativeGlmModel.open(model)) {
                return TextModel.fromMetadata(m.metadata());
              }
            };
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int runs = 16;
    double[] cpu = new double[runs];
    double[] wall = new double[runs];
    for (int i = 0; i < runs; i++) {
      System.gc();
      long c0 = threads.getCurrentThreadCpuTime();
      long w0 = System.nanoTime();
      load.get();
      cpu[i] = (threads.getCurrentThreadCpuTime() - c0) / 1e6;
      wall[i] = (System.nanoTime() - w0) / 1e6;
    }
    double[] restCpu = Arrays.copyOfRange(cpu, 1, runs);
    double[] restWall = Arrays.copyOfRange(wall, 1, runs);
    Arrays.sort(restCpu);
    Arrays.sort(restWall);
    System.out.printf(
        "%s path, %d tokens, %d merges: first load %.0f ms CPU (%.0f ms wall);"
            + " then median %.0f ms CPU (%.0f ms wall), min %.0f ms CPU%n",
        which,
        vocab.size(),
        vocab.numMerges(),
        cpu[0],
        wall[0],
        restCpu[restCpu.length / 2],
        restWall[restWall.length / 2],
        restCpu[0]);
    Files.deleteIfExists(model);
    Files.deleteIfExists(dir);
  }
}
