package org.glmmaas.worker.lifecycle;

import java.util.Locale;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * What serving one model takes in host memory, worked out before anything large is allocated:
 *
 * <ul>
 *   <li>weights: the tensor bytes of the file, memory-mapped. The CPU engine repacks the quantised
 *       matrices into its kernels' panel layout when the context is created and drops each matrix's
 *       file pages (madvise DONTNEED) as soon as its panels are written, so the weights count about
 *       1.1 x at steady state and <b>1.2 x at the load's peak</b> (the repacked copy plus the file
 *       pages of the matrices being repacked; measured on the 1B Q4_0 bench model: 0.60 GB peak
 *       resident for 0.62 GB of weights). A model is refused when its steady state does not fit; a
 *       peak that does not fit only warns (the extra is clean page cache);
 *   <li>KV: the pool, sized from the budget {@code glm.worker.kv-cache.memory};
 *   <li>scratch: one step's activations at {@code max-num-batched-tokens}, attention scores per
 *       thread, the logits of {@code max-num-seqs} rows, and a fixed runtime margin; for a
 *       mixture-of-experts model also the MoE buffers of that many rows ({@link #moeScratchBytes}).
 * </ul>
 *
 * @param model the file name, for messages
 * @param weightBytes tensor data of the file
 * @param kvBytes the KV pool (the budget rounded down to whole blocks)
 * @param scratchBytes per-step buffers and margin
 * @param expertBytes of the weights, the routed experts of a mixture-of-experts model (0 when
 *     dense): with experts from disk they stay in the file mapping and are not counted as resident
 */
public record MemoryPlan(
    String model, long weightBytes, long kvBytes, long scratchBytes, long expertBytes) {

  /** A dense model's plan. */
  public MemoryPlan(String model, long weightBytes, long kvBytes, long scratchBytes) {
    this(model, weightBytes, kvBytes, scratchBytes, 0);
  }

  /** Peak weights / file weights during load: the repacked copy plus matrices in flight. */
  public static final double LOAD_PEAK_FACTOR = 1.2;

  /** Steady-state weights / file weights: the repacked copy plus the pages still read. */
  public static final double STEADY_FACTOR = 1.1;

  /** Thread stacks, allocator slack, the sampler's per-request arrays. */
  static final long RUNTIME_MARGIN = 64L << 20;

  /**
   * The scratch of one engine context.
   *
   * @param embd n_embd
   * @param qDim n_head x head_dim
   * @param kvDim n_head_kv x head_dim
   * @param ff one half of the fused FFN
   * @param vocab logits per row
   * @param maxBatchTokens rows per step
   * @param maxSeqs logit rows per step at most
   * @param maxModelLen longest attention span
   * @param threads engine threads
   */
  public static long scratchBytes(
      long embd,
      long qDim,
      long kvDim,
      long ff,
      long vocab,
      long maxBatchTokens,
      long maxSeqs,
      long maxModelLen,
      long threads) {
    long floatsPerRow = 3 * embd + (qDim + 2 * kvDim) + qDim + 3 * ff;
    long activations = maxBatchTokens * floatsPerRow * Float.BYTES;
    long quantisedInputs = maxBatchTokens * (embd + qDim + ff) * 2;
    long scores = threads * maxModelLen * Float.BYTES;
    long logits = maxSeqs * vocab * Float.BYTES;
    return activations + quantisedInputs + scores + logits + RUNTIME_MARGIN;
  }

  /**
   * The routed-expert shape of a mixture-of-experts model ({@code ARCH.expert_*} metadata).
   *
   * @param experts routed experts per layer
   * @param used experts each token runs
   * @param expertFf one routed expert's FFN width
   * @param sharedFf the shared experts' FFN width (expert width x shared count)
   */
  public record MoeShape(long experts, long used, long expertFf, long sharedFf) {

    /** A dense model. */
    public static final MoeShape NONE = new MoeShape(0, 0, 0, 0);

    /** From the file's metadata; {@link #NONE} when it names no routed experts. */
    public static MoeShape of(GgufMetadata m) {
      String arch = m.string("general.architecture").orElse("");
      long experts = m.integer(arch + ".expert_count").orElse(0L);
      long used = m.integer(arch + ".expert_used_count").orElse(0L);
      if (experts <= 0 || used <= 0) {
        return NONE;
      }
      long ff = m.integer(arch + ".expert_feed_forward_length").orElse(0L);
      long shared = m.integer(arch + ".expert_shared_count").orElse(0L);
      return new MoeShape(experts, used, ff, ff * shared);
    }
  }

  /**
   * The MoE buffers of one engine context (the native {@code Context::moe_ffn}) at {@code
   * maxBatchTokens} rows: router probabilities; per (row, chosen expert) slot the weight, choice,
   * grouped position, gate|up, silu and down outputs; the shared expert's gate|up, silu and output
   * per row; and the quantised activations gathered by expert (2 bytes an element, as for the dense
   * layers: h per row and per slot in up to two formats, the down inputs per slot and row).
   */
  public static long moeScratchBytes(long embd, MoeShape moe, long maxBatchTokens) {
    if (moe.experts() <= 0) {
      return 0;
    }
    long k = moe.used();
    long floatsPerRow =
        moe.experts() + k * (2 + 3 * moe.expertFf() + embd) + 3 * moe.sharedFf() + embd;
    long positions = k * Long.BYTES;
    long quantised = ((1 + k) * embd * 2 + k * moe.expertFf() + moe.sharedFf()) * 2;
    return maxBatchTokens * (floatsPerRow * Float.BYTES + positions + quantised);
  }

  /**
   * Peak during load: weights x 1.2 (repacked copy and the file pages in flight) + KV + scratch.
   */
  public long peakBytes() {
    return (long) (weightBytes * LOAD_PEAK_FACTOR) + kvBytes + scratchBytes;
  }

  /** Steady state: about 1.1 x the weights + KV + scratch. */
  public long steadyBytes() {
    return (long) (weightBytes * STEADY_FACTOR) + kvBytes + scratchBytes;
  }

  /**
   * Null when the model fits {@code available}; otherwise the refusal, with the numbers and what to
   * change. The bar is the steady state: of the load's peak, the second copy of the weights is the
   * file's pages, clean page cache the kernel reclaims under pressure (also inside a cgroup) rather
   * than an out-of-memory kill, so a model whose steady state fits does load (see {@link
   * #loadWarning}).
   */
  public String refusal(AvailableMemory.Reading available) {
    if (steadyBytes() <= available.bytes() || needsExpertsFromDisk(available)) {
      return null;
    }
    String experts =
        expertBytes == 0
            ? ""
            : String.format(
                Locale.ROOT,
                "; even with its routed experts (%s) left on disk it needs %s",
                gb(expertBytes),
                gb(expertsFromDiskBytes()));
    return String.format(
        Locale.ROOT,
        "model %s needs %s of weights x 1.1 = %s once loaded (the CPU engine keeps a repacked copy;"
            + " x 1.2 = %s at the peak while loading) + %s KV (glm.worker.kv-cache.memory) + %s"
            + " scratch = %s (%s at the peak), but %s is available (%s)%s; lower"
            + " glm.worker.kv-cache.memory or use a smaller quantisation",
        model,
        gb(weightBytes),
        gb((long) (weightBytes * STEADY_FACTOR)),
        gb((long) (weightBytes * LOAD_PEAK_FACTOR)),
        gb(kvBytes),
        gb(scratchBytes),
        gb(steadyBytes()),
        gb(peakBytes()),
        gb(available.bytes()),
        available.source(),
        experts);
  }

  /**
   * Null when even the load's peak fits; otherwise a warning that loading will push the file's
   * pages out of the page cache (slower, other processes' cache evicted) though the model fits.
   */
  public String loadWarning(AvailableMemory.Reading available) {
    if (peakBytes() <= available.bytes()
        || refusal(available) != null
        || needsExpertsFromDisk(available)) {
      return null;
    }
    return String.format(
        Locale.ROOT,
        "model %s: the load's peak (%s: weights x 1.2 while the CPU engine repacks them, + KV +"
            + " scratch) exceeds the %s available (%s); it fits once loaded (%s), so the kernel"
            + " will reclaim the file's page cache while loading",
        model,
        gb(peakBytes()),
        gb(available.bytes()),
        available.source(),
        gb(steadyBytes()));
  }

  /**
   * Steady state with experts from disk: only the weights other than the routed experts are
   * repacked into memory; the experts are read from the file mapping (page cache, else disk).
   */
  public long expertsFromDiskBytes() {
    return (long) ((weightBytes - expertBytes) * STEADY_FACTOR) + kvBytes + scratchBytes;
  }

  /**
   * True when the model does not fit but would with its routed experts left on disk: the loader
   * then turns experts from disk on (see {@link #expertsFromDiskWarning}) instead of refusing.
   */
  public boolean needsExpertsFromDisk(AvailableMemory.Reading available) {
    return expertBytes > 0
        && steadyBytes() > available.bytes()
        && expertsFromDiskBytes() <= available.bytes();
  }

  /** The warning logged when experts from disk is turned on, with the numbers. */
  public String expertsFromDiskWarning(AvailableMemory.Reading available) {
    return String.format(
        Locale.ROOT,
        "model %s: its routed experts (%s) do not fit in memory: repacked it needs %s (weights x 1.1"
            + " + KV + scratch) but %s is available (%s). Running with experts from disk: the"
            + " experts stay in the memory-mapped file and are paged in when a token routes to"
            + " them (%s resident + the page cache the kernel can spare); this is slow, at disk"
            + " speed for experts not in the page cache (docs/moe.md)",
        model,
        gb(expertBytes),
        gb(steadyBytes()),
        gb(available.bytes()),
        available.source(),
        gb(expertsFromDiskBytes()));
  }

  /** One line for the log. */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "%s: weights %s (x 1.1 steady, x 1.2 = %s at the peak while loading) + KV %s + scratch %s"
            + " = %s steady, %s peak",
        model,
        gb(weightBytes),
        gb((long) (weightBytes * LOAD_PEAK_FACTOR)),
        gb(kvBytes),
        gb(scratchBytes),
        gb(steadyBytes()),
        gb(peakBytes()));
  }

  /** Decimal gigabytes with two decimals, the unit model cards use ("9.99 GB"). */
  static String gb(long bytes) {
    return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
  }
}
