package org.glmmaas.worker.engine.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.gguf.GgufMetadata;

/** Reads a loaded model's GGUF metadata through the glm_meta_* accessors into Java values. */
final class NativeMetadata {

  private static final int T_UINT8 = 0;
  private static final int T_INT8 = 1;
  private static final int T_UINT16 = 2;
  private static final int T_INT16 = 3;
  private static final int T_UINT32 = 4;
  private static final int T_INT32 = 5;
  private static final int T_FLOAT32 = 6;
  private static final int T_BOOL = 7;
  private static final int T_STRING = 8;
  private static final int T_ARRAY = 9;
  private static final int T_UINT64 = 10;
  private static final int T_INT64 = 11;
  private static final int T_FLOAT64 = 12;

  private final GlmNative n;
  private final MemorySegment model;

  NativeMetadata(GlmNative n, MemorySegment model) {
    this.n = n;
    this.model = model;
  }

  GgufMetadata read() {
    try (Arena arena = Arena.ofConfined()) {
      Out out = new Out(arena);
      long count = (long) n.metaCount.invokeExact(model);
      Map<String, Object> values = new LinkedHashMap<>();
      for (long i = 0; i < count; i++) {
        n.check((int) n.metaKey.invokeExact(model, i, out.ptr, out.len), "glm_meta_key");
        String key = GlmNative.utf8(out.ptr(), out.len());
        int type = (int) n.metaType.invokeExact(model, i);
        Object value = type == T_ARRAY ? array(i, key, out) : scalar(i, type, key, out);
        if (value != null) {
          values.put(key, value);
        }
      }
      return new GgufMetadata(values);
    } catch (EngineException e) {
      throw e;
    } catch (Throwable t) {
      throw new EngineException("reading metadata failed: " + t, t);
    }
  }

  private Object scalar(long i, int type, String key, Out out) throws Throwable {
    return switch (type) {
      case T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_INT64, T_UINT64 -> {
        n.check((int) n.metaGetI64.invokeExact(model, i, out.i64), "glm_meta_get_i64(" + key + ")");
        yield out.i64.get(JAVA_LONG, 0);
      }
      case T_BOOL -> {
        n.check((int) n.metaGetI64.invokeExact(model, i, out.i64), "glm_meta_get_i64(" + key + ")");
        yield out.i64.get(JAVA_LONG, 0) != 0;
      }
      case T_FLOAT32, T_FLOAT64 -> {
        n.check((int) n.metaGetF64.invokeExact(model, i, out.f64), "glm_meta_get_f64(" + key + ")");
        yield out.f64.get(JAVA_DOUBLE, 0);
      }
      case T_STRING -> {
        n.check(
            (int) n.metaGetStr.invokeExact(model, i, out.ptr, out.len),
            "glm_meta_get_str(" + key + ")");
        yield GlmNative.utf8(out.ptr(), out.len());
      }
      default -> throw new EngineException("metadata " + key + " has unknown type " + type);
    };
  }

  private Object array(long i, String key, Out out) throws Throwable {
    n.check(
        (int) n.metaArrInfo.invokeExact(model, i, out.i32, out.len),
        "glm_meta_arr_info(" + key + ")");
    int elemType = out.i32.get(JAVA_INT, 0);
    long len = out.len.get(JAVA_LONG, 0);
    if (len > Integer.MAX_VALUE - 8) {
      throw new EngineException("metadata " + key + " has " + len + " elements");
    }
    List<Object> list = new ArrayList<>((int) len);
    if (elemType == T_STRING) {
      for (long j = 0; j < len; j++) {
        n.check(
            (int) n.metaArrStr.invokeExact(model, i, j, out.ptr, out.len),
            "glm_meta_arr_str(" + key + ")");
        list.add(GlmNative.utf8(out.ptr(), out.len()));
      }
      return List.copyOf(list);
    }
    if (elemType == T_ARRAY) {
      return null; // nested arrays carry nothing a GLM model needs; GgufReader keeps them
    }
    int size =
        switch (elemType) {
          case T_UINT8, T_INT8, T_BOOL -> 1;
          case T_UINT16, T_INT16 -> 2;
          case T_UINT32, T_INT32, T_FLOAT32 -> 4;
          case T_UINT64, T_INT64, T_FLOAT64 -> 8;
          default ->
              throw new EngineException("metadata " + key + " has arrays of type " + elemType);
        };
    if (len == 0) {
      return List.of();
    }
    n.check((int) n.metaArrData.invokeExact(model, i, out.ptr), "glm_meta_arr_data(" + key + ")");
    MemorySegment data = out.ptr.get(ADDRESS, 0).reinterpret(len * size);
    for (long j = 0; j < len; j++) {
      list.add(
          switch (elemType) {
            case T_UINT8 -> (long) Byte.toUnsignedInt(data.get(JAVA_BYTE, j));
            case T_INT8 -> (long) data.get(JAVA_BYTE, j);
            case T_BOOL -> data.get(JAVA_BYTE, j) != 0;
            case T_UINT16 -> (long) Short.toUnsignedInt(data.getAtIndex(JAVA_SHORT_U, j));
            case T_INT16 -> (long) data.getAtIndex(JAVA_SHORT_U, j);
            case T_UINT32 -> Integer.toUnsignedLong(data.getAtIndex(JAVA_INT_U, j));
            case T_INT32 -> (long) data.getAtIndex(JAVA_INT_U, j);
            case T_FLOAT32 -> (double) data.getAtIndex(JAVA_FLOAT_U, j);
            case T_UINT64, T_INT64 -> data.getAtIndex(JAVA_LONG_U, j);
            default -> data.getAtIndex(JAVA_DOUBLE_U, j);
          });
    }
    return List.copyOf(list);
  }

  // GGUF array data is packed: read it without alignment assumptions.
  private static final java.lang.foreign.ValueLayout.OfShort JAVA_SHORT_U =
      JAVA_SHORT.withByteAlignment(1);
  private static final java.lang.foreign.ValueLayout.OfInt JAVA_INT_U =
      JAVA_INT.withByteAlignment(1);
  private static final java.lang.foreign.ValueLayout.OfFloat JAVA_FLOAT_U =
      JAVA_FLOAT.withByteAlignment(1);
  private static final java.lang.foreign.ValueLayout.OfLong JAVA_LONG_U =
      JAVA_LONG.withByteAlignment(1);
  private static final java.lang.foreign.ValueLayout.OfDouble JAVA_DOUBLE_U =
      JAVA_DOUBLE.withByteAlignment(1);

  /** Out-parameters of one read, allocated once. */
  private static final class Out {
    final MemorySegment ptr;
    final MemorySegment len;
    final MemorySegment i64;
    final MemorySegment f64;
    final MemorySegment i32;

    Out(Arena arena) {
      ptr = arena.allocate(ADDRESS);
      len = arena.allocate(JAVA_LONG);
      i64 = arena.allocate(JAVA_LONG);
      f64 = arena.allocate(JAVA_DOUBLE);
      i32 = arena.allocate(JAVA_INT);
    }

    /** The pointer the last call wrote. */
    MemorySegment ptr() {
      return ptr.get(ADDRESS, 0);
    }

    /** The length the last call wrote. */
    long len() {
      return len.get(JAVA_LONG, 0);
    }
  }
}
