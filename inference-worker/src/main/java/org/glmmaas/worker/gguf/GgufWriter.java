package org.glmmaas.worker.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Writes GGUF v3 files: typed metadata, tensor infos, then the data section aligned to {@code
 * general.alignment} (32 unless set), each tensor at an aligned offset. Tensor data is produced row
 * by row by a {@link RowSource}, in parallel over the rows of a chunk, and streamed to the file
 * chunk by chunk, so multi-gigabyte models never sit in memory. The file is written to a temporary
 * sibling and moved into place at the end.
 */
public final class GgufWriter {

  /** GGUF metadata value types. */
  public static final int UINT8 = 0;

  public static final int INT8 = 1;
  public static final int UINT16 = 2;
  public static final int INT16 = 3;
  public static final int UINT32 = 4;
  public static final int INT32 = 5;
  public static final int FLOAT32 = 6;
  public static final int BOOL = 7;
  public static final int STRING = 8;
  public static final int ARRAY = 9;
  public static final int UINT64 = 10;
  public static final int INT64 = 11;
  public static final int FLOAT64 = 12;

  /** Produces tensor rows: writes row {@code row} (exactly rowBytes bytes) at dst's position. */
  @FunctionalInterface
  public interface RowSource {
    void writeRow(long row, ByteBuffer dst);
  }

  private record Meta(int type, int elemType, Object value) {}

  private record Tensor(
      String name, GgmlType type, long[] dims, RowSource source, long rows, long rowBytes) {
    long bytes() {
      return rows * rowBytes;
    }
  }

  private static final int MAGIC = 0x46554747;
  private static final long CHUNK_BYTES = 32L << 20;

  private final Map<String, Meta> meta = new LinkedHashMap<>();
  private final List<Tensor> tensors = new ArrayList<>();

  public GgufWriter putString(String key, String v) {
    return put(key, new Meta(STRING, -1, v));
  }

  public GgufWriter putUint32(String key, long v) {
    if (v < 0 || v > 0xffffffffL) {
      throw new IllegalArgumentException(key + " = " + v + " does not fit uint32");
    }
    return put(key, new Meta(UINT32, -1, v));
  }

  public GgufWriter putInt32(String key, int v) {
    return put(key, new Meta(INT32, -1, (long) v));
  }

  public GgufWriter putUint64(String key, long v) {
    return put(key, new Meta(UINT64, -1, v));
  }

  public GgufWriter putFloat32(String key, float v) {
    return put(key, new Meta(FLOAT32, -1, (double) v));
  }

  public GgufWriter putFloat64(String key, double v) {
    return put(key, new Meta(FLOAT64, -1, v));
  }

  public GgufWriter putBool(String key, boolean v) {
    return put(key, new Meta(BOOL, -1, v));
  }

  public GgufWriter putStrings(String key, List<String> v) {
    return put(key, new Meta(ARRAY, STRING, List.copyOf(v)));
  }

  public GgufWriter putInt32s(String key, int[] v) {
    List<Long> l = new ArrayList<>(v.length);
    for (int x : v) {
      l.add((long) x);
    }
    return put(key, new Meta(ARRAY, INT32, l));
  }

  public GgufWriter putFloat32s(String key, float[] v) {
    List<Double> l = new ArrayList<>(v.length);
    for (float x : v) {
      l.add((double) x);
    }
    return put(key, new Meta(ARRAY, FLOAT32, l));
  }

  /** A metadata entry of any scalar type, value as {@link Long}/{@link Double}/{@link Boolean}. */
  public GgufWriter putRaw(String key, int type, Object value) {
    return put(key, new Meta(type, -1, value));
  }

  private GgufWriter put(String key, Meta m) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("metadata key must not be empty");
    }
    meta.put(key, m);
    return this;
  }

  /**
   * Adds a tensor of ggml shape {@code dims} (innermost first); rows are {@code dims[0]} values,
   * and there are product(dims[1..]) of them.
   */
  public GgufWriter addTensor(String name, GgmlType type, long[] dims, RowSource source) {
    if (dims.length < 1 || dims.length > 4) {
      throw new IllegalArgumentException(name + ": 1 to 4 dimensions, not " + dims.length);
    }
    long rows = 1;
    for (int i = 1; i < dims.length; i++) {
      rows = Math.multiplyExact(rows, dims[i]);
    }
    tensors.add(new Tensor(name, type, dims.clone(), source, rows, type.rowBytes(dims[0])));
    return this;
  }

  /** Adds a tensor from raw bytes (tests). */
  public GgufWriter addTensor(String name, GgmlType type, long[] dims, byte[] data) {
    long rowBytes = type.rowBytes(dims[0]);
    return addTensor(
        name,
        type,
        dims,
        (row, dst) -> dst.put(data, Math.toIntExact(row * rowBytes), Math.toIntExact(rowBytes)));
  }

  public int alignment() {
    Meta m = meta.get("general.alignment");
    return m == null ? 32 : Math.toIntExact((Long) m.value());
  }

  /** Writes the file; returns its size in bytes. */
  public long write(Path out) throws IOException {
    Path dir = out.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = Files.createTempFile(dir, ".gguf-", ".part");
    try {
      long size;
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        size = writeTo(ch);
      }
      Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return size;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private long writeTo(FileChannel ch) throws IOException {
    int align = alignment();
    ByteBuffer header = header(align);
    long pos = writeFully(ch, header);
    long dataStart = pad(pos, align);
    ch.position(dataStart);
    long offset = 0;
    for (Tensor t : tensors) {
      long aligned = pad(offset, align);
      ch.position(dataStart + aligned);
      writeTensor(ch, t);
      offset = aligned + t.bytes();
    }
    return dataStart + offset;
  }

  private static void writeTensor(FileChannel ch, Tensor t) throws IOException {
    long rowsPerChunk = Math.max(1, CHUNK_BYTES / Math.max(1, t.rowBytes()));
    ByteBuffer chunk = null;
    for (long r0 = 0; r0 < t.rows(); r0 += rowsPerChunk) {
      long first = r0;
      int n = (int) Math.min(rowsPerChunk, t.rows() - r0);
      int bytes = Math.toIntExact(n * t.rowBytes());
      if (chunk == null || chunk.capacity() < bytes) {
        chunk = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
      }
      ByteBuffer c = chunk;
      IntStream rows = IntStream.range(0, n);
      (n > 1 ? rows.parallel() : rows)
          .forEach(
              i -> {
                ByteBuffer slice =
                    c.slice((int) (i * t.rowBytes()), (int) t.rowBytes())
                        .order(ByteOrder.LITTLE_ENDIAN);
                t.source().writeRow(first + i, slice);
                if (slice.hasRemaining()) {
                  throw new IllegalStateException(
                      t.name()
                          + " row "
                          + (first + i)
                          + ": "
                          + slice.remaining()
                          + " bytes left unwritten");
                }
              });
      writeFully(ch, c.slice(0, bytes));
    }
  }

  private ByteBuffer header(int align) {
    Bytes b = new Bytes();
    b.i32(MAGIC).i32(3).i64(tensors.size()).i64(meta.size());
    for (Map.Entry<String, Meta> e : meta.entrySet()) {
      b.str(e.getKey());
      Meta m = e.getValue();
      b.i32(m.type());
      if (m.type() == ARRAY) {
        List<?> l = (List<?>) m.value();
        b.i32(m.elemType()).i64(l.size());
        for (Object o : l) {
          b.value(m.elemType(), o);
        }
      } else {
        b.value(m.type(), m.value());
      }
    }
    long offset = 0;
    for (Tensor t : tensors) {
      b.str(t.name()).i32(t.dims().length);
      for (long d : t.dims()) {
        b.i64(d);
      }
      long aligned = pad(offset, align);
      b.i32(t.type().id).i64(aligned);
      offset = aligned + t.bytes();
    }
    return b.done();
  }

  private static long pad(long x, int align) {
    return (x + align - 1) / align * align;
  }

  private static long writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
    return ch.position();
  }

  /** A growable little-endian byte buffer for the header. */
  private static final class Bytes {
    private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    private void room(int n) {
      if (buf.remaining() < n) {
        ByteBuffer bigger =
            ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n))
                .order(ByteOrder.LITTLE_ENDIAN);
        buf.flip();
        bigger.put(buf);
        buf = bigger;
      }
    }

    Bytes i32(int v) {
      room(4);
      buf.putInt(v);
      return this;
    }

    Bytes i64(long v) {
      room(8);
      buf.putLong(v);
      return this;
    }

    Bytes str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      i64(b.length);
      room(b.length);
      buf.put(b);
      return this;
    }

    Bytes value(int type, Object v) {
      switch (type) {
        case UINT8, INT8 -> {
          room(1);
          buf.put((byte) ((Number) v).longValue());
        }
        case UINT16, INT16 -> {
          room(2);
          buf.putShort((short) ((Number) v).longValue());
        }
        case UINT32, INT32 -> i32((int) ((Number) v).longValue());
        case UINT64, INT64 -> i64(((Number) v).longValue());
        case FLOAT32 -> {
          room(4);
          buf.putFloat(((Number) v).floatValue());
        }
        case FLOAT64 -> {
          room(8);
          buf.putDouble(((Number) v).doubleValue());
        }
        case BOOL -> {
          room(1);
          buf.put((byte) ((Boolean) v ? 1 : 0));
        }
        case STRING -> str((String) v);
        default -> throw new IllegalArgumentException("cannot write metadata type " + type);
      }
      return this;
    }

    ByteBuffer done() {
      return buf.flip();
    }
  }
}
