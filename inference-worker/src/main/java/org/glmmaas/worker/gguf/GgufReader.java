package org.glmmaas.worker.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the header, metadata and tensor infos of a GGUF (v2/v3) file in pure Java, without the
 * tensor data. Every count and length is checked against the bytes that remain, so a damaged file
 * is a {@link GgufFormatException}, never an allocation of absurd size.
 */
public final class GgufReader {

  /** One tensor's description; {@code offset} is relative to the start of the data section. */
  public record TensorInfo(String name, long[] dims, int ggmlType, long offset) {}

  /** What the header describes. */
  public record GgufFile(
      int version,
      GgufMetadata metadata,
      List<TensorInfo> tensors,
      int alignment,
      long dataOffset,
      long fileSize) {}

  private static final int MAGIC = 0x46554747; // "GGUF" little-endian
  private static final int MAX_ARRAY_DEPTH = 4;

  private final ByteBuffer buf;

  private GgufReader(ByteBuffer buf) {
    this.buf = buf.order(ByteOrder.LITTLE_ENDIAN);
  }

  public static GgufFile read(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      // The header of any real model is far below 2 GiB; map at most that much.
      long mapped = Math.min(size, Integer.MAX_VALUE);
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, mapped);
      return new GgufReader(buf).parse(size);
    }
  }

  public static GgufFile read(ByteBuffer bytes) {
    return new GgufReader(bytes.duplicate()).parse(bytes.remaining());
  }

  private GgufFile parse(long fileSize) {
    need(4);
    if (buf.getInt() != MAGIC) {
      throw new GgufFormatException("not a GGUF file: bad magic");
    }
    int version = u32("version");
    if (version != 2 && version != 3) {
      throw new GgufFormatException("unsupported GGUF version " + version + " (2 or 3 expected)");
    }
    long numTensors = count("tensor count", 8 + 4 + 4 + 8);
    long numKv = count("metadata count", 8 + 4);
    Map<String, Object> kv = new LinkedHashMap<>();
    for (long i = 0; i < numKv; i++) {
      String key = string("metadata key");
      int type = u32("type of " + key);
      kv.put(key, value(type, key, 0));
    }
    GgufMetadata metadata = new GgufMetadata(kv);
    List<TensorInfo> tensors = new ArrayList<>();
    for (long i = 0; i < numTensors; i++) {
      String name = string("tensor name");
      int nDims = u32("dims of " + name);
      if (nDims < 1 || nDims > 4) {
        throw new GgufFormatException("tensor " + name + " has " + nDims + " dimensions");
      }
      long[] dims = new long[nDims];
      for (int d = 0; d < nDims; d++) {
        dims[d] = i64("dim of " + name);
        if (dims[d] <= 0) {
          throw new GgufFormatException("tensor " + name + " has dimension " + dims[d]);
        }
      }
      int type = u32("type of " + name);
      long offset = i64("offset of " + name);
      tensors.add(new TensorInfo(name, dims, type, offset));
    }
    long alignment = metadata.integer("general.alignment").orElse(32L);
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0 || alignment > 1 << 20) {
      throw new GgufFormatException("general.alignment " + alignment + " is not a power of two");
    }
    long dataOffset = (buf.position() + alignment - 1) / alignment * alignment;
    return new GgufFile(
        version, metadata, List.copyOf(tensors), (int) alignment, dataOffset, fileSize);
  }

  private Object value(int type, String key, int depth) {
    return switch (type) {
      case 0 -> {
        need(1);
        yield (long) Byte.toUnsignedInt(buf.get());
      }
      case 1 -> {
        need(1);
        yield (long) buf.get();
      }
      case 2 -> {
        need(2);
        yield (long) Short.toUnsignedInt(buf.getShort());
      }
      case 3 -> {
        need(2);
        yield (long) buf.getShort();
      }
      case 4 -> {
        need(4);
        yield Integer.toUnsignedLong(buf.getInt());
      }
      case 5 -> {
        need(4);
        yield (long) buf.getInt();
      }
      case 6 -> {
        need(4);
        yield (double) buf.getFloat();
      }
      case 7 -> {
        need(1);
        yield buf.get() != 0;
      }
      case 8 -> string(key);
      case 9 -> array(key, depth);
      case 10, 11 -> {
        need(8);
        yield buf.getLong();
      }
      case 12 -> {
        need(8);
        yield buf.getDouble();
      }
      default -> throw new GgufFormatException("metadata " + key + " has unknown type " + type);
    };
  }

  private List<Object> array(String key, int depth) {
    if (depth >= MAX_ARRAY_DEPTH) {
      throw new GgufFormatException("metadata " + key + " nests arrays too deep");
    }
    int elemType = u32("array type of " + key);
    long n = count("array length of " + key, elemType == 8 ? 8 : 1);
    List<Object> out = new ArrayList<>((int) Math.min(n, 1 << 20));
    for (long i = 0; i < n; i++) {
      out.add(value(elemType, key, depth + 1));
    }
    return out;
  }

  private String string(String what) {
    long len = i64("length of " + what);
    if (len < 0 || len > buf.remaining()) {
      throw new GgufFormatException(what + " length " + len + " runs past the end of the file");
    }
    byte[] b = new byte[(int) len];
    buf.get(b);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new GgufFormatException(what + " is not valid UTF-8");
    }
  }

  /** A count that must fit in what remains, given each element takes at least minBytes. */
  private long count(String what, int minBytes) {
    long n = i64(what);
    if (n < 0 || n > buf.remaining() / Math.max(1, minBytes)) {
      throw new GgufFormatException(what + " " + n + " is larger than the file can hold");
    }
    return n;
  }

  private int u32(String what) {
    need(4, what);
    return buf.getInt();
  }

  private long i64(String what) {
    need(8, what);
    return buf.getLong();
  }

  private void need(int n) {
    need(n, "value");
  }

  private void need(int n, String what) {
    if (buf.remaining() < n) {
      throw new GgufFormatException(
          "file truncated while reading " + what + " at byte " + buf.position());
    }
  }
}
