package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import org.glmmaas.worker.engine.Embedder;
import org.glmmaas.worker.engine.EngineException;

/**
 * The native engine's encoder path ({@code glm_embed}): a BERT-family GGUF model and a context
 * without a KV pool. Inputs are packed back to back in one call, without padding.
 */
public final class NativeEmbedder implements Embedder {

  /** bert.pooling_type values. */
  public enum Pooling {
    MEAN,
    CLS,
    LAST;

    static Pooling of(int code) {
      return switch (code) {
        case 1 -> MEAN;
        case 2 -> CLS;
        case 3 -> LAST;
        default -> throw new EngineException("pooling type " + code + " is not an embedding one");
      };
    }
  }

  private final GlmNative n;
  private final NativeGlmModel model;
  private final boolean ownsModel;
  private final Pooling pooling;
  private final int maxInput;
  private final int dims;
  private final int maxBatchTokens;
  private MemorySegment context;
  private final GrowableSegment offsets = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment tokens = new GrowableSegment(Integer.BYTES);
  private final GrowableSegment out = new GrowableSegment(Float.BYTES);

  private NativeEmbedder(NativeGlmModel model, boolean ownsModel, int threads, int maxBatchTokens) {
    this.n = model.n;
    this.model = model;
    this.ownsModel = ownsModel;
    try {
      int code = (int) n.modelPooling.invokeExact(model.handle());
      if (code == 0) {
        throw new EngineException(
            model.path()
                + " is a generative model ("
                + model.hparams().architecture()
                + "), not an embedding model");
      }
      this.pooling = Pooling.of(code);
      this.maxInput = (int) n.modelMaxInput.invokeExact(model.handle());
      this.dims = model.hparams().embeddingLength();
      this.maxBatchTokens = Math.max(maxBatchTokens, maxInput);
      this.context = createContext(threads, this.maxBatchTokens);
    } catch (RuntimeException | Error e) {
      closeQuietly();
      throw e;
    } catch (Throwable t) {
      closeQuietly();
      throw new EngineException("opening " + model.path() + " failed: " + t, t);
    }
  }

  /**
   * Loads an embedding model and creates its context.
   *
   * @param threads compute threads (0: one per core)
   * @param maxBatchTokens most tokens one {@link #embed} call may carry (at least one whole input)
   * @throws EngineException when the file is invalid, unsupported, or a generative model
   */
  public static NativeEmbedder open(Path path, int threads, int maxBatchTokens) {
    NativeGlmModel m = NativeGlmModel.open(path);
    try {
      return new NativeEmbedder(m, true, threads, maxBatchTokens);
    } catch (RuntimeException | Error e) {
      m.close();
      throw e;
    }
  }

  /**
   * An embedder over an open model it does not own (the worker's model).
   *
   * @throws EngineException when the model is a generative one or the context cannot be made
   */
  public static NativeEmbedder over(NativeGlmModel model, int threads, int maxBatchTokens) {
    return new NativeEmbedder(model, false, threads, maxBatchTokens);
  }

  /** The longest input (tokens) of an embedding model; 0 for a generative model. */
  public static int maxInputTokens(NativeGlmModel model) {
    try {
      return (int) model.n.modelMaxInput.invokeExact(model.handle());
    } catch (Throwable t) {
      throw new EngineException("glm_model_max_input failed: " + t, t);
    }
  }

  private MemorySegment createContext(int threads, int batchTokens) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment p = (MemorySegment) n.contextDefaultParams.invokeExact((SegmentAllocator) a);
      if (threads > 0) {
        p.set(JAVA_INT, GlmNative.offset(GlmNative.CONTEXT_PARAMS, "n_threads"), threads);
      }
      p.set(JAVA_INT, GlmNative.offset(GlmNative.CONTEXT_PARAMS, "max_batch_tokens"), batchTokens);
      // an input is at least [CLS] [SEP]: never more inputs than half the tokens
      p.set(
          JAVA_INT,
          GlmNative.offset(GlmNative.CONTEXT_PARAMS, "max_batch_seqs"),
          Math.max(1, batchTokens / 2));
      MemorySegment outp = a.allocate(ADDRESS);
      n.check((int) n.contextCreate.invokeExact(model.handle(), p, outp), "glm_context_create");
      return outp.get(ADDRESS, 0);
    }
  }

  public Pooling pooling() {
    return pooling;
  }

  @Override
  public int dimensions() {
    return dims;
  }

  @Override
  public int maxInputTokens() {
    return maxInput;
  }

  /** Most tokens one call may carry. */
  public int maxBatchTokens() {
    return maxBatchTokens;
  }

  public NativeGlmModel model() {
    return model;
  }

  @Override
  public float[][] embed(int[][] inputs) {
    if (context == null) {
      throw new EngineException("embedder for " + model.path() + " is closed");
    }
    if (inputs.length == 0) {
      return new float[0][];
    }
    long total = 0;
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i].length == 0) {
        throw new EngineException("input " + i + " is empty");
      }
      if (inputs[i].length > maxInput) {
        throw new EngineException(
            "input "
                + i
                + " has "
                + inputs[i].length
                + " tokens; the model takes at most "
                + maxInput);
      }
      total += inputs[i].length;
    }
    if (total > maxBatchTokens) {
      throw new EngineException(
          inputs.length
              + " inputs hold "
              + total
              + " tokens; one call takes at most "
              + maxBatchTokens);
    }
    MemorySegment offs = offsets.ensure(inputs.length + 1L);
    MemorySegment toks = tokens.ensure(total);
    long at = 0;
    for (int i = 0; i < inputs.length; i++) {
      offs.setAtIndex(JAVA_INT, i, (int) at);
      MemorySegment.copy(inputs[i], 0, toks, JAVA_INT, at * Integer.BYTES, inputs[i].length);
      at += inputs[i].length;
    }
    offs.setAtIndex(JAVA_INT, inputs.length, (int) at);
    MemorySegment o = out.ensure((long) inputs.length * dims);
    int status;
    try {
      status = (int) n.embed.invokeExact(context, inputs.length, offs, toks, o);
    } catch (Throwable t) {
      throw new EngineException("glm_embed failed: " + t, t);
    }
    n.check(status, "glm_embed");
    float[][] result = new float[inputs.length][];
    for (int i = 0; i < inputs.length; i++) {
      result[i] = new float[dims];
      MemorySegment.copy(o, JAVA_FLOAT, (long) i * dims * Float.BYTES, result[i], 0, dims);
    }
    return result;
  }

  /** {@code v / ||v||_2}, the norm accumulated in double (llama.cpp's --embd-normalize 2). */
  public static float[] normalize(float[] v) {
    return Embedder.normalize(v);
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException ignored) {
      // already failing
    }
  }

  @Override
  public void close() {
    MemorySegment c = context;
    context = null;
    try {
      if (c != null && !c.equals(MemorySegment.NULL)) {
        n.contextFree.invokeExact(c);
      }
    } catch (Throwable t) {
      throw new EngineException("freeing the embedding context failed: " + t, t);
    } finally {
      offsets.close();
      tokens.close();
      out.close();
      if (ownsModel) {
        model.close();
      }
    }
  }

  @Override
  public String toString() {
    return "NativeEmbedder[" + model.path() + ", " + pooling + ", " + dims + " dims]";
  }
}
