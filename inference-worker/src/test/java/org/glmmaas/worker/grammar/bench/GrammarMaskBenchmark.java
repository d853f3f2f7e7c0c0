package org.glmmaas.worker.grammar.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.glmmaas.worker.grammar.GrammarEngine;
import org.glmmaas.worker.grammar.TokenConstraint;
import org.glmmaas.worker.grammar.Vocabulary;
import org.glmmaas.worker.text.GlmTextModel;
import org.glmmaas.worker.text.SyntheticVocab;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The grammar engine's per-step cost at GLM-4's vocabulary size (151,552 tokens; synthetic
 * byte-level BPE from {@link SyntheticVocab}: no GLM tokenizer file is at hand here), for a nested
 * JSON Schema ({@link #SCHEMA}: objects three deep, arrays of objects, anyOf, enum, bounded
 * strings, numbers).
 *
 * <ul>
 *   <li>{@code step} (SampleTime: p50/p99 per op): what the scheduler does per sequence per step —
 *       write the allowed-token bitmask, then accept the chosen token — replaying 32 recorded
 *       generations (random walks through the allowed tokens, seeded) back to back, caches warm;
 *   <li>{@code coldFirstRequest} (SingleShotTime): a fresh engine over the vocabulary, then one
 *       whole generation with every mask computed for the first time (what the first request with a
 *       new schema pays).
 * </ul>
 *
 * Run: {@code java -cp <test classpath> org.glmmaas.worker.grammar.bench.GrammarMaskBenchmark}
 * (docs/performance.md, "Constrained decoding").
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx3g"})
public class GrammarMaskBenchmark {

  static final int GLM4_VOCAB = 151_552;

  static final String SCHEMA =
      """
      {"type":"object","properties":{
        "id":{"type":"integer"},
        "name":{"type":"string","maxLength":24},
        "email":{"type":"string","maxLength":32},
        "active":{"type":"boolean"},
        "score":{"type":"number"},
        "role":{"enum":["admin","user","guest"]},
        "address":{"type":"object","properties":{
          "street":{"type":"string","maxLength":32},
          "city":{"type":"string","maxLength":16},
          "zip":{"type":"string","maxLength":10},
          "geo":{"type":"object","properties":{"lat":{"type":"number"},"lon":{"type":"number"}},
                 "required":["lat","lon"]}},
          "required":["street","city"]},
        "tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":5},
        "orders":{"type":"array","maxItems":3,"items":{"type":"object","properties":{
          "sku":{"type":"string","maxLength":12},
          "qty":{"type":"integer"},
          "note":{"anyOf":[{"type":"string","maxLength":20},{"type":"null"}]}},
          "required":["sku","qty"]}}
      },"required":["id","name","address","tags","orders"]}
      """;

  static Vocabulary vocabulary;

  static synchronized Vocabulary vocabulary() {
    if (vocabulary == null) {
      vocabulary =
          GlmTextModel.vocabulary(
              SyntheticVocab.build(SyntheticVocab.SAMPLE, GLM4_VOCAB, 42).tokenizer());
    }
    return vocabulary;
  }

  /** Random walks through the allowed tokens: the token ids of each whole generation. */
  static List<int[]> record(GrammarEngine engine, int count, long seed) {
    Vocabulary v = engine.vocabulary();
    long[] words = new long[TokenConstraint.wordsFor(v.size())];
    List<int[]> out = new ArrayList<>();
    SplittableRandom rnd = new SplittableRandom(seed);
    while (out.size() < count) {
      TokenConstraint c = engine.jsonSchema(SCHEMA);
      List<Integer> ids = new ArrayList<>();
      for (int step = 0; step < 2000 && !c.isTerminated(); step++) {
        c.fillNextTokenBitmask(words);
        List<Integer> allowed = new ArrayList<>();
        for (int w = 0; w < words.length; w++) {
          long b = words[w];
          while (b != 0) {
            allowed.add((w << 6) + Long.numberOfTrailingZeros(b));
            b &= b - 1;
          }
        }
        int id = allowed.get(rnd.nextInt(allowed.size()));
        c.accept(id);
        ids.add(id);
      }
      if (c.isTerminated()) {
        out.add(ids.stream().mapToInt(Integer::intValue).toArray());
      }
    }
    return out;
  }

  private GrammarEngine engine;
  private List<int[]> walks;
  private long[] words;
  private TokenConstraint current;
  private int walk;
  private int pos;

  @Setup(Level.Trial)
  public void setUp() {
    engine = new GrammarEngine(vocabulary());
    walks = record(engine, 32, 7);
    words = new long[TokenConstraint.wordsFor(engine.vocabulary().size())];
    long steps = walks.stream().mapToLong(w -> w.length).sum();
    System.err.printf("recorded %d generations, %d steps%n", walks.size(), steps);
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @Warmup(iterations = 3, time = 2)
  @Measurement(iterations = 5, time = 4)
  public long step() {
    if (current == null || pos == walks.get(walk).length) {
      walk = (walk + 1) % walks.size();
      pos = 0;
      current = engine.jsonSchema(SCHEMA);
    }
    current.fillNextTokenBitmask(words);
    current.accept(walks.get(walk)[pos++]);
    return words[0];
  }

  /** Fresh engine per invocation: every mask computed for the first time. */
  @State(Scope.Thread)
  public static class Cold {
    GrammarEngine engine;
    int[] walk;

    @Setup(Level.Invocation)
    public void setUp(GrammarMaskBenchmark b) {
      engine = new GrammarEngine(vocabulary());
      walk = b.walks.get(0);
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 1)
  @Measurement(iterations = 5)
  public void coldFirstRequest(Cold cold, Blackhole bh) {
    TokenConstraint c = cold.engine.jsonSchema(SCHEMA);
    long[] w = new long[TokenConstraint.wordsFor(cold.engine.vocabulary().size())];
    for (int id : cold.walk) {
      c.fillNextTokenBitmask(w);
      c.accept(id);
    }
    bh.consume(w);
  }

  public static void main(String[] args) throws Exception {
    new Runner(
            new OptionsBuilder()
                .include(
                    GrammarMaskBenchmark.class.getSimpleName()
                        + (args.length > 0 ? "." + args[0] : ""))
                .build())
        .run();
  }
}
