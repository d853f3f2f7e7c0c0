package org.glmmaas.worker.text.bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.glmmaas.worker.text.BpeTokenizer;
import org.glmmaas.worker.text.SyntheticVocab;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Encoding speed on one thread over 1 MiB of mixed Chinese/English text, with the reference
 * vocabulary (1,536 tokens) and a synthetic one at GLM-4's real size (151,552 tokens). MB/s =
 * 1.048576 / (seconds per op).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g"})
public class EncodeBenchmark {

  static final int TEXT_BYTES = 1 << 20;

  @Param({"reference-1536", "synthetic-151552"})
  public String vocab;

  private BpeTokenizer tokenizer;
  private String text;

  @Setup(Level.Trial)
  public void setup() {
    text = BenchCorpus.mixedText(TEXT_BYTES, 42);
    tokenizer =
        vocab.startsWith("reference")
            ? BpeTokenizer.fromMetadata(BenchCorpus.referenceMetadata())
            : SyntheticVocab.build(BenchCorpus.mixedText(24_000, 7), 151_552, 1, 6000).tokenizer();
    int[] ids = tokenizer.encode(text, true);
    System.out.printf(
        "%n[%s] %d bytes -> %d tokens (%.2f bytes/token), round trip %s%n",
        vocab,
        text.getBytes(StandardCharsets.UTF_8).length,
        ids.length,
        text.getBytes(StandardCharsets.UTF_8).length / (double) ids.length,
        tokenizer.decode(ids).equals(text) ? "ok" : "BROKEN");
  }

  @Benchmark
  public int[] encode() {
    return tokenizer.encode(text, true);
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(EncodeBenchmark.class.getSimpleName()).build()).run();
  }
}
