package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.glmmaas.worker.engine.CpuList;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.gguf.GgufMetadata;

/**
 * A GGUF file opened by the native engine, without a context: the file is memory-mapped and
 * validated, nothing large is allocated yet (the repacked weights, the KV pool and the thread pool
 * come with the first context, {@link #newEngine}). So a loader can read the hyper-parameters, the
 * metadata and the bytes of one KV block, plan memory, and refuse before committing any.
 *
 * <p>Engines created by {@link #newEngine} share this model; close them before the model.
 */
public final class NativeGlmModel implements AutoCloseable {

  final GlmNative n;
  private final String path;
  private final ModelHparams hparams;
  private MemorySegment handle;

  private NativeGlmModel(Path path) {
    this.n = GlmNative.get();
    this.path = path.toString();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment params = (MemorySegment) n.modelDefaultParams.invokeExact((SegmentAllocator) a);
      MemorySegment out = a.allocate(ADDRESS);
      MemorySegment cpath =
          a.allocateFrom(path.toAbsolutePath().toString(), StandardCharsets.UTF_8);
      n.check((int) n.modelLoad.invokeExact(cpath, params, out), "loading " + path);
      handle = out.get(ADDRESS, 0);
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("opening " + path + " failed: " + t, t);
    }
    try {
      hparams = readHparams();
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /**
   * Memory-maps and validates the GGUF file at {@code path}.
   *
   * @throws EngineException when the library is missing or the file is invalid or unsupported
   */
  public static NativeGlmModel open(Path path) {
    return new NativeGlmModel(path);
  }

  private ModelHparams readHparams() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment h = a.allocate(GlmNative.HPARAMS);
      n.check((int) n.modelGetHparams.invokeExact(handle, h), "glm_model_get_hparams");
      byte[] archBytes = h.asSlice(0, 32).toArray(JAVA_BYTE);
      int end = 0;
      while (end < archBytes.length && archBytes[end] != 0) {
        end++;
      }
      String arch = new String(archBytes, 0, end, StandardCharsets.UTF_8);
      return new ModelHparams(
          arch,
          hi(h, "n_vocab"),
          hi(h, "n_ctx_train"),
          hi(h, "n_embd"),
          hi(h, "n_layer"),
          hi(h, "n_head"),
          hi(h, "n_head_kv"),
          hi(h, "head_dim"),
          hi(h, "n_rot"),
          hi(h, "n_ff"),
          h.get(JAVA_FLOAT, GlmNative.offset(GlmNative.HPARAMS, "rope_freq_base")),
          h.get(JAVA_FLOAT, GlmNative.offset(GlmNative.HPARAMS, "rms_norm_eps")),
          hi(h, "file_type"),
          h.get(JAVA_LONG, GlmNative.offset(GlmNative.HPARAMS, "n_params")),
          h.get(JAVA_LONG, GlmNative.offset(GlmNative.HPARAMS, "n_weight_bytes")));
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("reading the hyper-parameters of " + path + " failed: " + t, t);
    }
  }

  private static int hi(MemorySegment h, String field) {
    return h.get(JAVA_INT, GlmNative.offset(GlmNative.HPARAMS, field));
  }

  public ModelHparams hparams() {
    return hparams;
  }

  public String path() {
    return path;
  }

  /** Bytes of one KV block (K and V, all layers) at this block size and KV type. */
  public long kvBlockBytes(int blockSize, EngineOptions.KvType kvType) {
    long b;
    try {
      b = (long) n.kvBlockBytes.invokeExact(handle(), blockSize, kvType.code);
    } catch (Throwable t) {
      throw new EngineException("glm_kv_block_bytes failed: " + t, t);
    }
    if (b <= 0) {
      throw new EngineException("glm_kv_block_bytes refused block size " + blockSize);
    }
    return b;
  }

  /** Every metadata key/value of the file, typed as {@link GgufMetadata} describes. */
  public GgufMetadata metadata() {
    return new NativeMetadata(n, handle()).read();
  }

  /** Bytes of the routed experts' tensors (glm4moe {@code *_exps}), 0 for a dense model. */
  public long expertBytes() {
    try {
      return (long) n.modelExpertBytes.invokeExact(handle());
    } catch (Throwable t) {
      throw new EngineException("glm_model_expert_bytes failed: " + t, t);
    }
  }

  /**
   * Experts from disk: the CPU engine leaves the routed experts in the file mapping (paged in from
   * disk on demand, slow) instead of repacking them into memory. Before the first engine context.
   */
  public void setExpertsFromDisk(boolean on) {
    try {
      n.check(
          (int) n.modelSetExpertsFromDisk.invokeExact(handle(), on ? 1 : 0),
          "glm_model_set_experts_from_disk");
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("glm_model_set_experts_from_disk failed: " + t, t);
    }
  }

  /** The model's tensors in file order. */
  public List<NativeTensorInfo> tensors() {
    MemorySegment m = handle();
    try (Arena a = Arena.ofConfined()) {
      long count = (long) n.tensorCount.invokeExact(m);
      MemorySegment name = a.allocate(ADDRESS);
      MemorySegment type = a.allocate(JAVA_INT);
      MemorySegment dims = a.allocate(JAVA_INT);
      MemorySegment ne = a.allocate(JAVA_LONG, 4);
      List<NativeTensorInfo> out = new ArrayList<>();
      for (long i = 0; i < count; i++) {
        n.check((int) n.tensorInfo.invokeExact(m, i, name, type, dims, ne), "glm_tensor_info");
        int nd = Math.clamp(dims.get(JAVA_INT, 0), 0, 4);
        long[] d = new long[nd];
        for (int k = 0; k < nd; k++) {
          d[k] = ne.getAtIndex(JAVA_LONG, k);
        }
        String nm = name.get(ADDRESS, 0).reinterpret(4096).getString(0);
        out.add(new NativeTensorInfo(nm, type.get(JAVA_INT, 0), d));
      }
      return List.copyOf(out);
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("listing tensors failed: " + t, t);
    }
  }

  /**
   * Creates an engine context over this model: the repacked weights (first context only), the KV
   * pool and the thread pool are allocated here.
   *
   * @param cpuAffinity cores the engine's threads may run on, or null/empty for no pinning
   */
  public NativeGlmEngine newEngine(EngineOptions options, CpuList cpuAffinity) {
    handle();
    return NativeGlmEngine.over(this, false, options, cpuAffinity);
  }

  MemorySegment handle() {
    if (handle == null) {
      throw new EngineException("model " + path + " is closed");
    }
    return handle;
  }

  @Override
  public void close() {
    MemorySegment h = handle;
    handle = null;
    if (h != null && !h.equals(MemorySegment.NULL)) {
      try {
        n.modelFree.invokeExact(h);
      } catch (Throwable t) {
        throw new EngineException("freeing model " + path + " failed: " + t, t);
      }
    }
  }

  @Override
  public String toString() {
    return "NativeGlmModel[" + path + ", " + hparams + "]";
  }
}
