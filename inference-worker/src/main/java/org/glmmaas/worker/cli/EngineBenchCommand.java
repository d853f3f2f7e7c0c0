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
 *
 * <p>Before that it measures the machine's memory bandwidth with a STREAM triad on the engine's own
 * threads (glm_context_triad) and prints the batch-1 decode bound, bandwidth / bytes of weights
 * streamed per token ({@link DecodeBytes}), and the fraction of it batch-1 decode reached. With
 * {@code --profile} it also times each phase of the batch-1 decode steps.
 *
 * <p>{@code --paired N} measures the fraction a second way, for machines whose bandwidth drifts
 * within seconds (a shared VM, where two triads a second apart can differ by 40 %): N batch-1
 * decode steps, each between two single triad passes, each step's rate over the bound from the mean
 * of its two neighbours; it prints the median and quartiles of those ratios, and the median against
 * the faster neighbour alone.
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
          --triad-mib N       MiB per triad array, 3 arrays (default 256; 0 skips the triad)
          --profile           time each phase of the batch-1 decode steps (ms per token, GB/s)
          --paired N          also N batch-1 steps, each between two triad passes of
                              min(triad-mib, 64) MiB arrays: the fraction per step against its
                              neighbours' bandwidth (median, quartiles); default 0 (off)
          --json              {"bandwidth_gb_s":W,"weight_bytes_per_token":N,
                               "batch1_bound_tok_s":U,"prefill_tok_s":X,
                               "decode":[{"batch":B,"tok_s":Y,"fraction_of_bound":F},...],
                               "profile":[{"phase":P,"ms_per_token":T,"bytes":N,"gb_s":G},..],
                               "paired":{"steps":N,"bandwidth_gb_s":W,"fraction":F,"q1":F,
                                         "q3":F,"fraction_vs_faster":F}}
        """;
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    CliArgs a =
        CliArgs.parse(
            args,
            Set.of(
                "model",
                "threads",
                "batch",
                "prompt",
                "gen",
                "reps",
                "kv-type",
                "seed",
                "triad-mib",
                "paired"),
            Set.of("json", "profile"));
    Path model = a.existingFile("model");
    int threads = a.integer("threads", 2, 1, 1024);
    int[] batches = a.intList("batch", new int[] {1, 4, 16}, 1, 4096);
    int prompt = a.integer("prompt", 128, 1, 1 << 20);
    int gen = a.integer("gen", 32, 1, 1 << 20);
    int reps = a.integer("reps", 3, 1, 1000);
    long seed = a.longValue("seed", 1);
    int triadMib = a.integer("triad-mib", 256, 0, 1 << 16);
    boolean profile = a.flag("profile");
    int paired = a.integer("paired", 0, 0, 100_000);
    if (paired > 0 && triadMib == 0) {
      throw new UsageException("--paired needs the triad: give --triad-mib a value above 0");
    }
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
    double bandwidth = Double.NaN;
    DecodeBytes bytes;
    double[] phaseSeconds = null;
    long profiledTokens = 0;
    Paired pairedResult = null;
    try (NativeGlmEngine engine = NativeGlmEngine.open(model, opts)) {
      bytes =
          DecodeBytes.of(
              engine.tensors(), engine.metadata(), NativeGlmEngine.PROFILE_PHASES.size());
      if (triadMib > 0) {
        bandwidth = engine.triadBytesPerSecond((long) triadMib << 20, 10);
      }
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
      if (progress && !Double.isNaN(bandwidth)) {
        err.printf(
            "  triad %.2f GB/s, %.1f MB of weights per token: batch-1 bound %.1f tok/s%n",
            bandwidth / 1e9, bytes.total() / 1e6, bandwidth / bytes.total());
      }
      // (batch 1 measures it once more below, right after its decode)
      for (int batch : batches) {
        b.decodeSeconds(batch, prompt, gen);
        boolean prof = profile && batch == 1;
        if (prof) {
          engine.profile(true);
        }
        for (int i = 0; i < reps; i++) {
          t[i] = b.decodeSeconds(batch, prompt, gen);
        }
        if (prof) {
          phaseSeconds = engine.profile(false);
          profiledTokens = (long) reps * gen;
        }
        if (batch == 1 && triadMib > 0) {
          // again right after batch-1 decode: on a shared machine the load moves, and the best of
          // the two keeps the bound from being understated (the fraction errs low, not high)
          bandwidth = Math.max(bandwidth, engine.triadBytesPerSecond((long) triadMib << 20, 10));
        }
        decode.add(new double[] {batch, (double) batch * gen / median(t)});
        if (progress) {
          err.printf("  decode batch %d: %.1f tok/s%n", batch, decode.getLast()[1]);
        }
      }
      if (paired > 0) {
        pairedResult =
            b.paired(paired, prompt, gen, (long) Math.min(triadMib, 64) << 20, bytes.total());
      }
    }
    double bound = bandwidth / bytes.total();
    if (a.flag("json")) {
      ObjectNode o = EngineGenerateCommand.JSON.createObjectNode();
      if (!Double.isNaN(bandwidth)) {
        o.put("bandwidth_gb_s", Math.round(bandwidth / 1e7) / 100.0);
      }
      o.put("weight_bytes_per_token", bytes.total());
      if (!Double.isNaN(bandwidth)) {
        o.put("batch1_bound_tok_s", round(bound));
      }
      o.put("prefill_tok_s", round(prefill));
      ArrayNode arr = o.putArray("decode");
      for (double[] d : decode) {
        ObjectNode row = arr.addObject().put("batch", (int) d[0]).put("tok_s", round(d[1]));
        if (d[0] == 1 && !Double.isNaN(bandwidth)) {
          row.put("fraction_of_bound", Math.round(d[1] / bound * 1000) / 1000.0);
        }
      }
      if (phaseSeconds != null) {
        ArrayNode pa = o.putArray("profile");
        for (Phase p : phases(phaseSeconds, profiledTokens, bytes)) {
          ObjectNode row = pa.addObject().put("phase", p.name).put("ms_per_token", p.msPerToken);
          row.put("bytes", p.bytes);
          if (p.bytes > 0) {
            row.put("gb_s", p.gbPerSecond);
          }
        }
      }
      if (pairedResult != null) {
        o.putObject("paired")
            .put("steps", pairedResult.steps())
            .put("bandwidth_gb_s", Math.round(pairedResult.bandwidth() / 1e7) / 100.0)
            .put("fraction", frac(pairedResult.median()))
            .put("q1", frac(pairedResult.q1()))
            .put("q3", frac(pairedResult.q3()))
            .put("fraction_vs_faster", frac(pairedResult.vsFaster()));
      }
      out.println(EngineGenerateCommand.JSON.writeValueAsString(o));
    } else {
      out.printf("%-28s %10s%n", "measurement", "tok/s");
      out.printf("%-28s %10.1f%n", "prefill " + prompt + " tokens", prefill);
      for (double[] d : decode) {
        out.printf("%-28s %10.1f", "decode batch " + (int) d[0] + " (aggregate)", d[1]);
        if (d[0] == 1 && !Double.isNaN(bandwidth)) {
          out.printf("   %.0f %% of the bound", 100 * d[1] / bound);
        }
        out.println();
      }
      if (!Double.isNaN(bandwidth)) {
        out.printf(
            "bandwidth (triad, %d threads) %.2f GB/s; weights per token %.1f MB; batch-1 bound"
                + " %.1f tok/s%n",
            threads, bandwidth / 1e9, bytes.total() / 1e6, bound);
      }
      if (pairedResult != null) {
        out.printf(
            "paired (%d batch-1 steps, each between two triad passes): median local bandwidth %.2f"
                + " GB/s; fraction median %.1f %% (quartiles %.1f-%.1f %%); against the faster"
                + " neighbour %.1f %%%n",
            pairedResult.steps(),
            pairedResult.bandwidth() / 1e9,
            100 * pairedResult.median(),
            100 * pairedResult.q1(),
            100 * pairedResult.q3(),
            100 * pairedResult.vsFaster());
      }
      if (phaseSeconds != null) {
        out.printf("%-12s %12s %10s %8s%n", "phase", "ms/token", "MB", "GB/s");
        for (Phase p : phases(phaseSeconds, profiledTokens, bytes)) {
          out.printf(
              "%-12s %12.3f %10.1f %8s%n",
              p.name,
              p.msPerToken,
              p.bytes / 1e6,
              p.bytes > 0 ? String.format("%.1f", p.gbPerSecond) : "");
        }
      }
    }
    return 0;
  }

  private record Phase(String name, double msPerToken, long bytes, double gbPerSecond) {}

  /** --paired: per-step fractions against the neighbouring triad passes (median, quartiles). */
  private record Paired(
      int steps, double bandwidth, double median, double q1, double q3, double vsFaster) {}

  private static double frac(double v) {
    return Math.round(v * 10000) / 10000.0;
  }

  private static List<Phase> phases(double[] seconds, long tokens, DecodeBytes bytes) {
    List<Phase> out = new ArrayList<>();
    double total = 0;
    for (int i = 0; i < seconds.length; i++) {
      double s = seconds[i] / tokens;
      total += s;
      long by = bytes.perPhase()[i];
      out.add(
          new Phase(
              NativeGlmEngine.PROFILE_PHASES.get(i),
              Math.round(s * 1e6) / 1000.0,
              by,
              s > 0 ? Math.round(by / s / 1e8) / 10.0 : 0));
    }
    long all = bytes.total();
    out.add(
        new Phase(
            "total",
            Math.round(total * 1e6) / 1000.0,
            all,
            total > 0 ? Math.round(all / total / 1e8) / 10.0 : 0));
    return out;
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

    /**
     * {@code steps} batch-1 decode steps of one prefilled sequence (positions cycling through the
     * {@code gen} slots after the prompt), each between two single triad passes over arrays of
     * {@code triadBytes}; a step's fraction is its rate over the bound from its neighbours' mean.
     */
    Paired paired(int steps, int prompt, int gen, long triadBytes, long bytesPerToken) {
      int[][] tables = tables(1);
      int[] next = new int[1];
      new GreedyGenerator(engine, maxBatchTokens)
          .prefill(
              List.of(randomPrompt(prompt)),
              tables,
              (s, row) -> next[0] = GreedyGenerator.argmax(row));
      engine.triadBytesPerSecond(triadBytes, 1); // allocates and faults in the arrays (untimed)
      double[] ratio = new double[steps];
      double[] vsFaster = new double[steps];
      double[] local = new double[steps];
      double before = engine.triadBytesPerSecond(triadBytes, 1);
      for (int k = 0; k < steps; k++) {
        int pos = prompt + k % gen;
        int slot = tables[0][pos / blockSize] * blockSize + pos % blockSize;
        long t0 = System.nanoTime();
        FloatBuffer logits =
            engine.forward(
                new ForwardBatch(
                    next.clone(),
                    new int[] {0},
                    new int[] {pos},
                    new int[] {slot},
                    tables,
                    new int[] {0}));
        double dt = (System.nanoTime() - t0) / 1e9;
        next[0] = GreedyGenerator.argmax(logits.slice(0, engine.info().vocabSize()));
        double after = engine.triadBytesPerSecond(triadBytes, 1);
        local[k] = (before + after) / 2;
        ratio[k] = (1 / dt) / (local[k] / bytesPerToken);
        vsFaster[k] = (1 / dt) / (Math.max(before, after) / bytesPerToken);
        before = after;
      }
      double[] sorted = ratio.clone();
      Arrays.sort(sorted);
      return new Paired(
          steps,
          median(local),
          median(ratio),
          sorted[(steps - 1) / 4],
          sorted[(steps - 1) * 3 / 4],
          median(vsFaster));
    }
  }
}
