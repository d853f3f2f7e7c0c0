package org.glmmaas.worker.text.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.glmmaas.worker.engine.ffm.NativeGlmModel;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.ModelMaker;
import org.glmmaas.worker.modelmaker.ModelPreset;
import org.glmmaas.worker.modelmaker.WeightType;
import org.glmmaas.worker.text.BpeTokenizer;
import org.glmmaas.worker.text.SyntheticVocab;
import org.glmmaas.worker.text.TextModel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Loading a GLM-4-size vocabulary (151,552 tokens and their merges, synthetic) the way the worker
 * does at start-up, in single cold-ish shots (SingleShotTime: the first load of a process is the
 * one users wait for):
 *
 * <ul>
 *   <li>{@code nativeModelToTokenizer}: glm_model_load (mmap + validation) of a GGUF with that
 *       vocabulary, the metadata read through FFM, the text model (tokenizer, template) built;
 *   <li>{@code javaReaderToTokenizer}: the same through the pure-Java GGUF reader ({@code glm
 *       models}, tools);
 *   <li>{@code tokenizerFromMetadata}: the tokenizer alone from metadata already in memory.
 * </ul>
 *
 * Run: {@code java -cp <test classpath> org.glmmaas.worker.text.bench.VocabularyLoadBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 10)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xmx2g", "--enable-native-access=ALL-UNNAMED"})
public class VocabularyLoadBenchmark {

  static final int GLM4_VOCAB = 151_552;

  private Path dir;
  private Path model;
  private GgufMetadata metadata;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    dir = Files.createTempDirectory("vocab-bench");
    model = dir.resolve("micro-151k.gguf");
    SyntheticVocab vocab =
        SyntheticVocab.build(BenchCorpus.mixedText(24_000, 7), GLM4_VOCAB, 1, 6000);
    ModelPreset preset =
        new ModelPreset("micro-151k", 64, 1, 2, 1, 32, 16, 128, 256, GLM4_VOCAB, 10000f, 1e-5f);
    ModelMaker.make(
        new ModelMaker.Spec(ModelArch.GLM4, preset, WeightType.Q8_0, 1),
        vocab.toBpeVocabulary(),
        model);
    metadata = GgufReader.read(model).metadata();
    System.out.printf(
        "%n%d tokens, %d merges, file %d bytes%n",
        vocab.size(), vocab.numMerges(), Files.size(model));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    Files.deleteIfExists(model);
    Files.deleteIfExists(dir);
  }

  @Benchmark
  public TextModel nativeModelToTokenizer() {
    try (NativeGlmModel m = NativeGlmModel.open(model)) {
      return TextModel.fromMetadata(m.metadata());
    }
  }

  @Benchmark
  public TextModel javaReaderToTokenizer() throws Exception {
    return TextModel.fromMetadata(GgufReader.read(model).metadata());
  }

  @Benchmark
  public BpeTokenizer tokenizerFromMetadata() {
    return BpeTokenizer.fromMetadata(metadata);
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(VocabularyLoadBenchmark.class.getSimpleName()).build())
        .run();
  }
}
