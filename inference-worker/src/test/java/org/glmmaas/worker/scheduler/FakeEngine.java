package org.glmmaas.worker.scheduler;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.engine.EngineInfo;
import org.glmmaas.worker.engine.ForwardBatch;

/**
 * A deterministic engine with a real paged KV store: every token's id is written to its slot, and a
 * row's logits are a pseudo-random function of the whole context read back through the sequence's
 * block table. So a wrong slot, a wrong block table or a wrongly shared prefix block changes the
 * output, exactly as with a real model. Validates each batch's own rules, records the batches it
 * saw, and can be told to fail or to stall.
 */
public class FakeEngine implements Engine {

  private final EngineInfo info;
  private final int[] slotTokens;
  private final boolean[] slotWritten;
  private final float[] logits;
  public final List<ForwardBatch> batches = new ArrayList<>();
  public volatile boolean recordBatches = true;
  public final AtomicInteger numForwards = new AtomicInteger();

  /** Fails the next n calls. */
  public final AtomicInteger failNext = new AtomicInteger();

  /** When set, each forward first takes a permit (tests release them to let steps run). */
  public volatile Semaphore gate;

  /** When set, forces the argmax of a row given (position) -> token, or -1 for the default. */
  public volatile IntUnaryOperator forcedToken;

  private volatile boolean closed;

  public FakeEngine(int vocabSize, int blockSize, int numBlocks) {
    this.info = new EngineInfo("glm4", vocabSize, 4096, blockSize, numBlocks, 1024L, "cpu");
    this.slotTokens = new int[blockSize * numBlocks];
    this.slotWritten = new boolean[blockSize * numBlocks];
    this.logits = new float[vocabSize * 4096];
  }

  @Override
  public EngineInfo info() {
    return info;
  }

  @Override
  public FloatBuffer forward(ForwardBatch b) {
    if (closed) {
      throw new EngineException("engine closed");
    }
    Semaphore g = gate;
    if (g != null) {
      g.acquireUninterruptibly();
    }
    numForwards.incrementAndGet();
    if (recordBatches) {
      synchronized (batches) {
        batches.add(b);
      }
    }
    if (failNext.get() > 0 && failNext.decrementAndGet() >= 0) {
      throw new EngineException("scripted failure");
    }
    validate(b);
    int bs = info.kvBlockSize();
    for (int row = 0; row < b.numTokens(); row++) {
      slotTokens[b.slotMapping()[row]] = b.tokenIds()[row];
      slotWritten[b.slotMapping()[row]] = true;
    }
    int v = info.vocabSize();
    for (int i = 0; i < b.logitRows().length; i++) {
      int row = b.logitRows()[i];
      int[] table = b.blockTables()[b.seqIndex()[row]];
      int pos = b.positions()[row];
      long h = 1469598103934665603L;
      for (int p = 0; p <= pos; p++) {
        int slot = table[p / bs] * bs + p % bs;
        if (!slotWritten[slot]) {
          throw new EngineException("position " + p + " read from a slot never written");
        }
        h = (h ^ slotTokens[slot]) * 1099511628211L;
      }
      fillRow(i * v, h, pos);
    }
    return FloatBuffer.wrap(logits, 0, b.logitRows().length * v).slice();
  }

  private void fillRow(int offset, long h, int pos) {
    int v = info.vocabSize();
    long x = h;
    for (int t = 0; t < v; t++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      logits[offset + t] = (float) ((x >>> 40) & 0xFFFF) / 8192f; // [0, 8)
    }
    logits[offset] = -10f; // token 0 is end-of-generation: never chosen unless forced
    IntUnaryOperator f = forcedToken;
    if (f != null) {
      int forced = f.applyAsInt(pos);
      if (forced >= 0) {
        logits[offset + forced] = 100f;
      }
    }
  }

  private void validate(ForwardBatch b) {
    int n = b.numTokens();
    if (b.seqIndex().length != n || b.positions().length != n || b.slotMapping().length != n) {
      throw new EngineException("ragged batch");
    }
    int bs = info.kvBlockSize();
    for (int row = 0; row < n; row++) {
      int seq = b.seqIndex()[row];
      int pos = b.positions()[row];
      int[] table = b.blockTables()[seq];
      if (pos / bs >= table.length) {
        throw new EngineException("position " + pos + " beyond the block table of seq " + seq);
      }
      int expected = table[pos / bs] * bs + pos % bs;
      if (b.slotMapping()[row] != expected) {
        throw new EngineException(
            "slot of row " + row + " is " + b.slotMapping()[row] + ", expected " + expected);
      }
      if (row > 0 && b.seqIndex()[row - 1] == seq && b.positions()[row - 1] != pos - 1) {
        throw new EngineException("positions of seq " + seq + " not contiguous");
      }
    }
    for (int r : b.logitRows()) {
      if (r < 0 || r >= n) {
        throw new EngineException("logit row " + r + " out of range");
      }
    }
    if (b.logitRows().length > 4096) {
      throw new EngineException("too many logit rows");
    }
    for (int[] table : b.blockTables()) {
      for (int id : table) {
        if (id < 0 || id >= info.numKvBlocks()) {
          throw new EngineException("block id " + id + " out of range");
        }
      }
      if (Arrays.stream(table).distinct().count() != table.length) {
        throw new EngineException("a block appears twice in one table");
      }
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
