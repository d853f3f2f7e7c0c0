package org.glmmaas.worker.sample.bench;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.glmmaas.worker.sample.LogitsSampler;
import org.glmmaas.worker.sample.Sampler;
import org.glmmaas.worker.sample.SamplingConfig;
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
 * Time of one sampling step over a logits row of GLM-4's vocabulary (151,552), one thread. Logits
 * are Gaussian (sigma 3) with 64 raised "likely" tokens, roughly the shape of a language model's
 * output; 16 rows rotate so the branch predictor cannot learn one.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g"})
public class SamplerBenchmark {

  static final int VOCAB = 151_552;
  static final int ROWS = 16;

  @Param({
    "greedy",
    "temperature0.8-topP0.9",
    "temperature0.8-topK50-topP0.9",
    "temperature1-penalties"
  })
  public String mode;

  private FloatBuffer logits;
  private Sampler sampler;
  private int row;

  @Setup(Level.Trial)
  public void setup() {
    Random r = new Random(1);
    float[] a = new float[VOCAB * ROWS];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextGaussian() * 3);
    }
    for (int k = 0; k < ROWS; k++) {
      for (int j = 0; j < 64; j++) {
        a[k * VOCAB + r.nextInt(VOCAB)] += 8 + r.nextFloat() * 6;
      }
    }
    logits = FloatBuffer.wrap(a);
    SamplingConfig config =
        switch (mode) {
          case "greedy" ->
              new SamplingConfig(
                  0f, 1f, 0, 0f, 1f, 0f, 0f, false, 1, 1, List.of(), false, false, 0);
          case "temperature0.8-topP0.9" ->
              new SamplingConfig(
                  0.8f, 0.9f, 0, 0f, 1f, 0f, 0f, true, 1, 1, List.of(), false, false, 0);
          case "temperature0.8-topK50-topP0.9" ->
              new SamplingConfig(
                  0.8f, 0.9f, 50, 0f, 1f, 0f, 0f, true, 1, 1, List.of(), false, false, 0);
          default ->
              new SamplingConfig(
                  1f, 1f, 0, 0f, 1.1f, 0.5f, 0.5f, true, 1, 1, List.of(), false, false, 0);
        };
    sampler = new LogitsSampler(config, VOCAB);
    for (int i = 0; i < 2048; i++) {
      sampler.accept(r.nextInt(VOCAB), i >= 1024); // a 1k-token prompt and 1k generated tokens
    }
  }

  @Benchmark
  public Sampler.Sample sample() {
    row = (row + 1) % ROWS;
    return sampler.sample(logits, row * VOCAB);
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(SamplerBenchmark.class.getSimpleName()).build()).run();
  }
}
