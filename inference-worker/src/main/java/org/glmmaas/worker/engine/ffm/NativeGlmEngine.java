package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.glmmaas.worker.engine.CpuList;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.engine.EngineInfo;
import org.glmmaas.worker.engine.ForwardBatch;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * The native GLM engine: one loaded GGUF model and one context (KV pool, thread pool) over it.
 * Every failure of the library becomes an {@link EngineException} carrying glm_last_error().
 *
 * <p>Per-step inputs go through off-heap int buffers that are reused and grown only when a step is
 * larger than any before; logits land in an off-heap buffer exposed as a {@link FloatBuffer}. All
 * native memory lives in arenas closed by {@link #close()}. Not thread-safe: one engine thread
 * calls it.
 */
public final class NativeGlmEngine implements Engine {

  private static final AtomicLong CONTEXTS_CREATED = new AtomicLong();

  private final GlmNative n;
  private final Arena arena = Arena.ofShared();
  private final NativeGlmModel owner;
  private final boolean ownsModel;
  private MemorySegment model;
  private MemorySegment context;
  private final ModelHparams hparams;
  private final EngineOptions effective;
  private final EngineInfo info;
  private final String modelPath;

  // per-step buffers
  private final MemorySegment batch;
  private final GrowableSegment tokenIds = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment seqIdx = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment positions = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment slots = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment tableOffsets = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment tables = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment logitRows = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment logits = new GrowableSegment(Float.BYTES);
  private FloatBuffer logitsView;
  private boolean closed;

  private NativeGlmEngine(
      NativeGlmModel owner, boolean ownsModel, EngineOptions options, CpuList cpuAffinity) {
    this.n = owner.n;
    this.owner = owner;
    this.ownsModel = ownsModel;
    this.modelPath = owner.path();
    this.model = owner.handle();
    this.hparams = owner.hparams();
    try {
      context = CpuAffinity.callPinned(cpuAffinity, () -> createContext(options));
      CONTEXTS_CREATED.incrementAndGet();
      effective = readParams();
      batch = arena.allocate(GlmNative.BATCH);
      long blockBytes = owner.kvBlockBytes(effective.kvBlockSize(), effective.kvType());
      info =
          new EngineInfo(
              hparams.architecture(),
              hparams.vocabSize(),
              hparams.contextLength(),
              effective.kvBlockSize(),
              effective.numKvBlocks(),
              blockBytes,
              effective.device() == null ? "cpu" : effective.device());
      logits.ensure(
          Math.max(1, Math.min(effective.maxBatchSeqs(), 16)) * (long) hparams.vocabSize());
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    } catch (Throwable t) {
      close();
      throw new EngineException("opening " + modelPath + " failed: " + t, t);
    }
  }

  static NativeGlmEngine over(
      NativeGlmModel model, boolean ownsModel, EngineOptions options, CpuList cpuAffinity) {
    return new NativeGlmEngine(model, ownsModel, options, cpuAffinity);
  }

  /**
   * Loads the GGUF model at {@code path} and creates a context over it; the engine owns the model
   * and frees it on {@link #close()}.
   *
   * @throws EngineException when the library is missing, the file is invalid or unsupported, or the
   *     context cannot be created; the message is the native one
   */
  public static NativeGlmEngine open(Path path, EngineOptions options) {
    NativeGlmModel m = NativeGlmModel.open(path);
    try {
      return new NativeGlmEngine(m, true, options, null);
    } catch (RuntimeException | Error e) {
      m.close();
      throw e;
    }
  }

  /**
   * Engine contexts this JVM has created so far. A context is where the large allocations happen
   * (repacked weights, KV pool, thread pool), so tests use this to check that a refusal came before
   * any of them.
   */
  public static long numContextsCreated() {
    return CONTEXTS_CREATED.get();
  }

  /** Whether libglm can be loaded in this JVM (tests assume it). */
  public static boolean isAvailable() {
    try {
      GlmNative.get();
      return true;
    } catch (EngineException e) {
      return false;
    }
  }

  /** Why libglm cannot be loaded, or empty when it can. */
  public static String unavailableReason() {
    try {
      GlmNative.get();
      return "";
    } catch (EngineException e) {
      return e.getMessage();
    }
  }

  /** Build and CPU facts of the library, e.g. "cpu: avx2 fma avx512f; cuda: no". */
  public static String systemInfo() {
    return GlmNative.get().systemInfoString();
  }

  /** Runs on the (possibly pinned) creating thread; glm_last_error is read on that thread. */
  private MemorySegment createContext(EngineOptions o) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = (MemorySegment) n.contextDefaultParams.invokeExact((SegmentAllocator) a);
      if (o.device() != null) {
        p.set(ADDRESS, cp("device"), a.allocateFrom(o.device(), StandardCharsets.UTF_8));
      }
      setIfPositive(p, "n_threads", o.numThreads());
      setIfPositive(p, "kv_block_size", o.kvBlockSize());
      setIfPositive(p, "n_kv_blocks", o.numKvBlocks());
      setIfPositive(p, "max_batch_tokens", o.maxBatchTokens());
      setIfPositive(p, "max_batch_seqs", o.maxBatchSeqs());
      if (o.kvType() != null) {
        p.set(JAVA_INT, cp("kv_type"), o.kvType().code);
      }
      MemorySegment out = a.allocate(ADDRESS);
      n.check((int) n.contextCreate.invokeExact(model, p, out), "glm_context_create");
      return out.get(ADDRESS, 0);
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("glm_context_create failed: " + t, t);
    }
  }

  private EngineOptions readParams() throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = a.allocate(GlmNative.CONTEXT_PARAMS);
      n.check((int) n.contextGetParams.invokeExact(context, p), "glm_context_get_params");
      MemorySegment dev = p.get(ADDRESS, cp("device"));
      String device = dev.equals(MemorySegment.NULL) ? "cpu" : dev.reinterpret(256).getString(0);
      int kv = p.get(JAVA_INT, cp("kv_type"));
      return new EngineOptions(
          device,
          p.get(JAVA_INT, cp("n_threads")),
          p.get(JAVA_INT, cp("kv_block_size")),
          p.get(JAVA_INT, cp("n_kv_blocks")),
          kv == EngineOptions.KvType.F32.code ? EngineOptions.KvType.F32 : EngineOptions.KvType.F16,
          p.get(JAVA_INT, cp("max_batch_tokens")),
          p.get(JAVA_INT, cp("max_batch_seqs")));
    }
  }

  private static long cp(String field) {
    return GlmNative.offset(GlmNative.CONTEXT_PARAMS, field);
  }

  private static void setIfPositive(MemorySegment p, String field, int v) {
    if (v > 0) {
      p.set(JAVA_INT, cp(field), v);
    }
  }

  // ---- accessors ----

  public ModelHparams hparams() {
    return hparams;
  }

  /** The context parameters in force, library defaults resolved. */
  public EngineOptions options() {
    return effective;
  }

  @Override
  public EngineInfo info() {
    return info;
  }

  /** Every metadata key/value of the file, typed as {@link GgufMetadata} describes. */
  public GgufMetadata metadata() {
    ensureOpen();
    return owner.metadata();
  }

  /** The model's tensors in file order. */
  public List<NativeTensorInfo> tensors() {
    ensureOpen();
    return owner.tensors();
  }

  // ---- measurement (benchmarks) ----

  /** Phases of {@link #profile}, in glm.h's glm_profile_phase order. */
  public static final List<String> PROFILE_PHASES =
      List.of(
          "embed",
          "norm",
          "qkv",
          "rope",
          "attention",
          "wo",
          "ffn_up",
          "silu",
          "ffn_down",
          "output");

  /**
   * The memory bandwidth this context's threads reach: a STREAM triad over three arrays of {@code
   * arrayBytes} each, split across the engine's thread pool (glm_context_triad); the best of {@code
   * reps} passes, in bytes per second as STREAM counts them.
   */
  public double triadBytesPerSecond(long arrayBytes, int reps) {
    ensureOpen();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_DOUBLE);
      int status = (int) n.contextTriad.invokeExact(context, arrayBytes, reps, out);
      n.check(status, "glm_context_triad");
      return out.get(JAVA_DOUBLE, 0);
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("glm_context_triad failed: " + t, t);
    }
  }

  /**
   * Turns the per-phase profile of {@link #forward} on or off and returns the seconds per phase
   * ({@link #PROFILE_PHASES} order) accumulated since the previous call, resetting them.
   */
  public double[] profile(boolean enable) {
    ensureOpen();
    int count = PROFILE_PHASES.size();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_DOUBLE, count);
      int status = (int) n.contextProfile.invokeExact(context, enable ? 1 : 0, count, out);
      n.check(status, "glm_context_profile");
      return out.toArray(JAVA_DOUBLE);
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("glm_context_profile failed: " + t, t);
    }
  }

  // ---- the step ----

  @Override
  public FloatBuffer forward(ForwardBatch b) {
    ensureOpen();
    int numTokens = b.tokenIds().length;
    if (b.seqIndex().length != numTokens
        || b.positions().length != numTokens
        || b.slotMapping().length != numTokens) {
      throw new EngineException(
          "batch arrays disagree in length: "
              + numTokens
              + " tokens, "
              + b.seqIndex().length
              + " seq indices, "
              + b.positions().length
              + " positions, "
              + b.slotMapping().length
              + " slots");
    }
    int numSeqs = b.blockTables().length;
    int numLogits = b.logitRows().length;
    long totalBlocks = 0;
    for (int[] t : b.blockTables()) {
      totalBlocks += t.length;
    }
    if (totalBlocks > Integer.MAX_VALUE) {
      throw new EngineException("block tables hold " + totalBlocks + " entries");
    }
    copy(tokenIds, b.tokenIds());
    copy(seqIdx, b.seqIndex());
    copy(positions, b.positions());
    copy(slots, b.slotMapping());
    copy(logitRows, b.logitRows());
    MemorySegment offs = tableOffsets.ensure(numSeqs + 1L);
    MemorySegment tabs = tables.ensure(Math.max(1, totalBlocks));
    int at = 0;
    for (int s = 0; s < numSeqs; s++) {
      int[] t = b.blockTables()[s];
      offs.setAtIndex(JAVA_INT, s, at);
      MemorySegment.copy(t, 0, tabs, JAVA_INT, (long) at * Integer.BYTES, t.length);
      at += t.length;
    }
    offs.setAtIndex(JAVA_INT, numSeqs, at);
    long numFloats = (long) numLogits * hparams.vocabSize();
    MemorySegment out = logits.ensure(Math.max(1, numFloats));
    if (logitsView == null || logits.grewSinceView) {
      logitsView = out.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
      logits.grewSinceView = false;
    }
    setBatch(numTokens, numSeqs, numLogits);
    int status;
    try {
      status = (int) n.forward.invokeExact(context, batch, out);
    } catch (Throwable t) {
      throw new EngineException("glm_forward failed: " + t, t);
    }
    n.check(status, "glm_forward");
    logitsView.clear().limit((int) numFloats);
    return logitsView;
  }

  private void setBatch(int numTokens, int numSeqs, int numLogits) {
    var l = GlmNative.BATCH;
    batch.set(JAVA_INT, GlmNative.offset(l, "n_tokens"), numTokens);
    batch.set(ADDRESS, GlmNative.offset(l, "token_ids"), tokenIds.segment());
    batch.set(ADDRESS, GlmNative.offset(l, "seq_idx"), seqIdx.segment());
    batch.set(ADDRESS, GlmNative.offset(l, "positions"), positions.segment());
    batch.set(ADDRESS, GlmNative.offset(l, "slot_mapping"), slots.segment());
    batch.set(JAVA_INT, GlmNative.offset(l, "n_seqs"), numSeqs);
    batch.set(ADDRESS, GlmNative.offset(l, "block_table_offsets"), tableOffsets.segment());
    batch.set(ADDRESS, GlmNative.offset(l, "block_tables"), tables.segment());
    batch.set(JAVA_INT, GlmNative.offset(l, "n_logits"), numLogits);
    batch.set(ADDRESS, GlmNative.offset(l, "logit_rows"), logitRows.segment());
  }

  private static void copy(GrowableSegment dst, int[] src) {
    MemorySegment seg = dst.ensure(Math.max(1, src.length));
    MemorySegment.copy(src, 0, seg, JAVA_INT, 0, src.length);
  }

  private void ensureOpen() {
    if (closed) {
      throw new EngineException("engine for " + modelPath + " is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (context != null && !context.equals(MemorySegment.NULL)) {
        n.contextFree.invokeExact(context);
      }
      if (ownsModel) {
        owner.close();
      }
    } catch (Throwable t) {
      throw new EngineException("freeing the native engine failed: " + t, t);
    } finally {
      context = null;
      model = null;
      logitsView = null;
      for (GrowableSegment g :
          List.of(tokenIds, seqIdx, positions, slots, tableOffsets, tables, logitRows, logits)) {
        g.close();
      }
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "NativeGlmEngine[" + modelPath + ", " + hparams + "]";
  }
}
