package org.glmmaas.worker.engine;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Greedy continuation of many prompts in one batch, over any {@link Engine}: prefill all prompts
 * together (split into steps of at most {@code maxBatchTokens} tokens), then decode all sequences
 * together, one token each per step. Greedy = the largest raw logit, ties to the lowest id, no stop
 * on end-of-generation tokens. Used by {@code glm engine generate}, the bench and the golden tests.
 *
 * <p>KV blocks: sequence i gets a contiguous run of blocks after those of sequences before it,
 * starting at {@code firstBlock}; the caller sizes the engine's pool for that.
 */
public final class GreedyGenerator {

  /** One token id and its logit. */
  public record IdLogit(int id, float logit) {}

  /**
   * One prompt's result.
   *
   * @param promptIds the prompt
   * @param greedyIds the generated ids
   * @param top the {@code topK} highest logits at the last prompt position, highest first
   * @param stepLogits when asked for: the full logits from which greedyIds[k] was chosen, per k
   */
  public record Output(
      int[] promptIds, int[] greedyIds, List<IdLogit> top, List<float[]> stepLogits) {}

  private final Engine engine;
  private final int maxBatchTokens;
  private final int vocab;
  private final int blockSize;

  public GreedyGenerator(Engine engine, int maxBatchTokens) {
    this.engine = engine;
    this.maxBatchTokens = maxBatchTokens;
    this.vocab = engine.info().vocabSize();
    this.blockSize = engine.info().kvBlockSize();
  }

  /** KV blocks one sequence of this length needs. */
  public static int blocksFor(int numTokens, int blockSize) {
    return (numTokens + blockSize - 1) / blockSize;
  }

  /** KV blocks {@link #run} needs for these prompts. */
  public static int blocksFor(List<int[]> prompts, int maxTokens, int blockSize) {
    int n = 0;
    for (int[] p : prompts) {
      n += blocksFor(p.length + maxTokens, blockSize);
    }
    return n;
  }

  public List<Output> run(List<int[]> prompts, int maxTokens, int topK, boolean keepLogits) {
    return run(prompts, maxTokens, topK, keepLogits, 0);
  }

  public List<Output> run(
      List<int[]> prompts, int maxTokens, int topK, boolean keepLogits, int firstBlock) {
    int numSeqs = prompts.size();
    if (numSeqs == 0) {
      return List.of();
    }
    if (maxTokens < 1) {
      throw new IllegalArgumentException("max tokens must be at least 1");
    }
    int[][] tables = new int[numSeqs][];
    int next = firstBlock;
    for (int s = 0; s < numSeqs; s++) {
      int[] p = prompts.get(s);
      if (p.length == 0) {
        throw new IllegalArgumentException("prompt " + s + " is empty");
      }
      for (int id : p) {
        if (id < 0 || id >= vocab) {
          throw new IllegalArgumentException(
              "token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
        }
      }
      int n = blocksFor(p.length + maxTokens, blockSize);
      tables[s] = new int[n];
      for (int i = 0; i < n; i++) {
        tables[s][i] = next++;
      }
    }
    if (next > engine.info().numKvBlocks()) {
      throw new IllegalArgumentException(
          "these prompts need "
              + (next - firstBlock)
              + " KV blocks from block "
              + firstBlock
              + ", the pool has "
              + engine.info().numKvBlocks());
    }
    List<float[]>[] steps = newLists(numSeqs);
    int[][] greedy = new int[numSeqs][maxTokens];
    List<List<IdLogit>> tops = new ArrayList<>();
    for (int s = 0; s < numSeqs; s++) {
      tops.add(List.of());
    }
    prefill(
        prompts,
        tables,
        (s, row) -> {
          greedy[s][0] = argmax(row);
          tops.set(s, top(row, topK));
          if (keepLogits) {
            steps[s].add(copy(row));
          }
        });
    for (int k = 1; k < maxTokens; k++) {
      int[] ids = new int[numSeqs];
      int[] seq = new int[numSeqs];
      int[] pos = new int[numSeqs];
      int[] slot = new int[numSeqs];
      int[] rows = new int[numSeqs];
      for (int s = 0; s < numSeqs; s++) {
        ids[s] = greedy[s][k - 1];
        seq[s] = s;
        pos[s] = prompts.get(s).length + k - 1;
        slot[s] = slot(tables[s], pos[s]);
        rows[s] = s;
      }
      FloatBuffer logits = engine.forward(new ForwardBatch(ids, seq, pos, slot, tables, rows));
      for (int s = 0; s < numSeqs; s++) {
        FloatBuffer row = logits.slice(s * vocab, vocab);
        greedy[s][k] = argmax(row);
        if (keepLogits) {
          steps[s].add(copy(row));
        }
      }
    }
    List<Output> out = new ArrayList<>();
    for (int s = 0; s < numSeqs; s++) {
      out.add(
          new Output(
              prompts.get(s).clone(),
              greedy[s],
              tops.get(s),
              keepLogits ? List.copyOf(steps[s]) : List.of()));
    }
    return out;
  }

  /** Receives the logits of a sequence's last prompt position. */
  @FunctionalInterface
  public interface LastRowSink {
    void accept(int seq, FloatBuffer row);
  }

  /**
   * Runs every prompt token through the engine in steps of at most maxBatchTokens tokens, and hands
   * each sequence's last-position logits to {@code sink}.
   */
  public void prefill(List<int[]> prompts, int[][] tables, LastRowSink sink) {
    int numSeqs = prompts.size();
    int s = 0;
    int offset = 0; // next token of sequence s
    while (s < numSeqs) {
      List<int[]> chunkRows = new ArrayList<>(); // {seq, pos}
      while (s < numSeqs && chunkRows.size() < maxBatchTokens) {
        int[] p = prompts.get(s);
        int take = Math.min(p.length - offset, maxBatchTokens - chunkRows.size());
        for (int i = 0; i < take; i++) {
          chunkRows.add(new int[] {s, offset + i});
        }
        offset += take;
        if (offset == p.length) {
          s++;
          offset = 0;
        }
      }
      int n = chunkRows.size();
      int firstSeq = chunkRows.getFirst()[0];
      int lastSeq = chunkRows.getLast()[0];
      int[][] chunkTables = new int[lastSeq - firstSeq + 1][];
      for (int q = firstSeq; q <= lastSeq; q++) {
        chunkTables[q - firstSeq] = tables[q];
      }
      int[] ids = new int[n];
      int[] seq = new int[n];
      int[] pos = new int[n];
      int[] slot = new int[n];
      List<Integer> logitRows = new ArrayList<>();
      List<Integer> logitSeqs = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int q = chunkRows.get(r)[0];
        int p = chunkRows.get(r)[1];
        ids[r] = prompts.get(q)[p];
        seq[r] = q - firstSeq;
        pos[r] = p;
        slot[r] = slot(tables[q], p);
        if (p == prompts.get(q).length - 1) {
          logitRows.add(r);
          logitSeqs.add(q);
        }
      }
      int[] rows = logitRows.stream().mapToInt(Integer::intValue).toArray();
      FloatBuffer logits = engine.forward(new ForwardBatch(ids, seq, pos, slot, chunkTables, rows));
      for (int i = 0; i < rows.length; i++) {
        sink.accept(logitSeqs.get(i), logits.slice(i * vocab, vocab));
      }
    }
  }

  private int slot(int[] table, int pos) {
    return table[pos / blockSize] * blockSize + pos % blockSize;
  }

  /** The index of the largest value, ties to the lowest index. */
  public static int argmax(FloatBuffer row) {
    int best = 0;
    float bestV = row.get(0);
    for (int i = 1; i < row.limit(); i++) {
      float v = row.get(i);
      if (v > bestV) {
        bestV = v;
        best = i;
      }
    }
    return best;
  }

  /** The k highest logits, highest first (ties: lower id first). */
  public static List<IdLogit> top(FloatBuffer row, int k) {
    int n = row.limit();
    k = Math.min(k, n);
    if (k <= 0) {
      return List.of();
    }
    int[] ids = new int[k];
    float[] vals = new float[k];
    int size = 0;
    for (int i = 0; i < n; i++) {
      float v = row.get(i);
      if (size == k && !(v > vals[k - 1])) {
        continue;
      }
      int at = size < k ? size++ : k - 1;
      while (at > 0 && v > vals[at - 1]) {
        ids[at] = ids[at - 1];
        vals[at] = vals[at - 1];
        at--;
      }
      ids[at] = i;
      vals[at] = v;
    }
    List<IdLogit> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(new IdLogit(ids[i], vals[i]));
    }
    return out;
  }

  private static float[] copy(FloatBuffer row) {
    float[] f = new float[row.limit()];
    row.get(0, f);
    return f;
  }

  @SuppressWarnings("unchecked")
  private static List<float[]>[] newLists(int n) {
    List<float[]>[] l = new List[n];
    for (int i = 0; i < n; i++) {
      l[i] = new ArrayList<>();
    }
    return l;
  }
}
