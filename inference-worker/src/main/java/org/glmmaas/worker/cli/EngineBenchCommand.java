package org.glmmaas.worker.cli;

import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.glmmaas.worker.engine.ForwardBatch;
import org.glmmaas.worker.engine.GreedyGenerator;
import org.glmmaas.worker.engine.ffm.EngineOptions;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code glm engine bench}: prefill throughput of one prompt, and aggregate greedy decode
 * throughput at each batch size (every sequence prefilled with its own random prompt first, not
 * timed). One warm-up run of each measurement, then the median of {@code --reps} runs.
 */
final class EngineBenchCommand implements Command {

  @Override
  public String summary() {
    return "measure prefill and batched decode throughput (tok/s)";
  }

  @Override
  public String usage() {
    return """
        Usage: glm engine bench --model FILE [options]
          --model FILE        GGUF model
          --threads N         compute threads (default 2)
          --batch LIST        decode batch sizes (default 1,4,16)
          --prompt N          prompt tokens per sequence (default 128)
          --gen N             generated tokens per sequence (default 32)
          --reps N            measured repetitions after one warm-up (default 3)
          --kv-type f16|f32   KV-cache type (default f16, as llama.cpp's default)
          --seed N            seed of the random prompts (default 1)
          --json              {"prefill_tok_s":X,"decode":[{"batch":B,"tok_s":Y},...]}
        """;
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    CliArgs a =
        CliArgs.parse(
            args,
            Set.of("model", "threads", "batch", "prompt", "gen", "reps", "kv-type", "seed"),
            Set.of("json"));
    Path model = a.existingFile("model");
    int threads = a.integer("threads", 2, 1, 1024);
    int[] batches = a.intList("batch", new int[] {1, 4, 16}, 1, 4096);
    int prompt = a.integer("prompt", 128, 1, 1 << 20);
    int gen = a.integer("gen", 32, 1, 1 << 20);
    int reps = a.integer("reps", 3, 1, 1000);
    long seed = a.longValue("seed", 1);
    EngineOptions.KvType kv;
    try {
      kv = EngineOptions.KvType.parse(a.string("kv-type", "f16"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    int maxB = Arrays.stream(batches).max().orElse(1);
    int blockSize = 16;
    int perSeq = GreedyGenerator.blocksFor(prompt + gen, blockSize);
    int maxBatchTokens = Math.max(prompt, 2048);
    EngineOptions opts =
        EngineOptions.defaults()
            .withThreads(threads)
            .withKvType(kv)
            .withKvBlockSize(blockSize)
            .withKvBlocks(maxB * perSeq)
            .withMaxBatchTokens(maxBatchTokens)
            .withMaxBatchSeqs(Math.max(maxB, 16));
    SplittableRandom rng = new SplittableRandom(seed);
    double prefill;
    List<double[]> decode = new ArrayList<>();
    try (NativeGlmEngine engine = NativeGlmEngine.open(model, opts)) {
      Bench b = new Bench(engine, maxBatchTokens, blockSize, perSeq, rng);
      if (!a.flag("json")) {
        err.printf(
            "bench %s: %d threads, prompt %d, gen %d, kv %s, %d reps%n",
            model, threads, prompt, gen, kv.name().toLowerCase(), reps);
      }
      b.prefillSeconds(prompt);
      double[] t = new double[reps];
      for (int i = 0; i < reps; i++) {
        t[i] = b.prefillSeconds(prompt);
      }
      prefill = prompt / median(t);
      boolean progress = !a.flag("json");
      if (progress) {
        err.printf("  prefill %d tokens: %.1f tok/s%n", prompt, prefill);
      }
      for (int batch : batches) {
        b.decodeSeconds(batch, prompt, gen);
        for (int i = 0; i < reps; i++) {
          t[i] = b.decodeSeconds(batch, prompt, gen);
        }
        decode.add(new double[] {batch, (double) batch * gen / median(t)});
        if (progress) {
          err.printf("  decode batch %d: %.1f tok/s%n", batch, decode.getLast()[1]);
        }
      }
    }
    if (a.flag("json")) {
      ObjectNode o = EngineGenerateCommand.JSON.createObjectNode();
      o.put("prefill_tok_s", round(prefill));
      ArrayNode arr = o.putArray("decode");
      for (double[] d : decode) {
        arr.addObject().put("batch", (int) d[0]).put("tok_s", round(d[1]));
      }
      out.println(EngineGenerateCommand.JSON.writeValueAsString(o));
    } else {
      out.printf("%-28s %10s%n", "measurement", "tok/s");
      out.printf("%-28s %10.1f%n", "prefill " + prompt + " tokens", prefill);
      for (double[] d : decode) {
        out.printf("%-28s %10.1f%n", "decode batch " + (int) d[0] + " (aggregate)", d[1]);
      }
    }
    return 0;
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** Timed runs over one engine; sequence i always uses blocks [i*perSeq, (i+1)*perSeq). */
  private record Bench(
      NativeGlmEngine engine, int maxBatchTokens, int blockSize, int perSeq, SplittableRandom rng) {

    int[] randomPrompt(int n) {
      int vocab = engine.info().vocabSize();
      int[] p = new int[n];
      for (int i = 0; i < n; i++) {
        p[i] = rng.nextInt(vocab);
      }
      return p;
    }

    int[][] tables(int batch) {
      int[][] t = new int[batch][perSeq];
      for (int s = 0; s < batch; s++) {
        for (int i = 0; i < perSeq; i++) {
          t[s][i] = s * perSeq + i;
        }
      }
      return t;
    }

    double prefillSeconds(int prompt) {
      int[] p = randomPrompt(prompt);
      int[][] tables = tables(1);
      GreedyGenerator g = new GreedyGenerator(engine, maxBatchTokens);
      long t0 = System.nanoTime();
      g.prefill(List.of(p), tables, (s, row) -> {});
      return (System.nanoTime() - t0) / 1e9;
    }

    double decodeSeconds(int batch, int prompt, int gen) {
      List<int[]> prompts = new ArrayList<>();
      for (int s = 0; s < batch; s++) {
        prompts.add(randomPrompt(prompt));
      }
      int[][] tables = tables(batch);
      int[] next = new int[batch];
      new GreedyGenerator(engine, maxBatchTokens)
          .prefill(prompts, tables, (s, row) -> next[s] = GreedyGenerator.argmax(row));
      int vocab = engine.info().vocabSize();
      int[] seq = new int[batch];
      int[] pos = new int[batch];
      int[] slot = new int[batch];
      int[] rows = new int[batch];
      for (int s = 0; s < batch; s++) {
        seq[s] = s;
        rows[s] = s;
      }
      long t0 = System.nanoTime();
      for (int k = 0; k < gen; k++) {
        for (int s = 0; s < batch; s++) {
          pos[s] = prompt + k;
          slot[s] = tables[s][pos[s] / blockSize] * blockSize + pos[s] % blockSize;
        }
        FloatBuffer logits =
            engine.forward(new ForwardBatch(next.clone(), seq, pos, slot, tables, rows));
        for (int s = 0; s < batch; s++) {
          next[s] = GreedyGenerator.argmax(logits.slice(s * vocab, vocab));
        }
      }
      return (System.nanoTime() - t0) / 1e9;
    }
  }
}
