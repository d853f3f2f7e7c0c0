package org.glmmaas.worker.engine.ffm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each header field of a valid GGUF file sits, so tests can edit one field precisely: counts,
 * key/string/array lengths, value type tags, and per tensor its name length, n_dims, dims, type and
 * offset.
 */
final class GgufLayout {

  /** A field: byte position and width (4 or 8). */
  record Field(String what, int pos, int width) {}

  /** A tensor's field positions. */
  record TensorFields(String name, int nDimsPos, int[] dimPos, int typePos, int offsetPos) {}

  final List<Field> fields = new ArrayList<>();
  final Map<String, TensorFields> tensors = new LinkedHashMap<>();
  final Map<String, Integer> stringValuePos = new LinkedHashMap<>();
  int headerEnd;

  static GgufLayout scan(byte[] file) {
    GgufLayout l = new GgufLayout();
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    b.position(4);
    l.fields.add(new Field("version", 4, 4));
    b.getInt();
    l.fields.add(new Field("tensor count", 8, 8));
    long nt = b.getLong();
    l.fields.add(new Field("kv count", 16, 8));
    long nkv = b.getLong();
    for (long i = 0; i < nkv; i++) {
      String key = l.str(b, "key length");
      l.fields.add(new Field("type of " + key, b.position(), 4));
      int type = b.getInt();
      if (type == 8) {
        l.stringValuePos.put(key, b.position());
      }
      l.value(b, type, key);
    }
    for (long i = 0; i < nt; i++) {
      String name = l.str(b, "tensor name length");
      int ndPos = b.position();
      l.fields.add(new Field("n_dims of " + name, ndPos, 4));
      int nd = b.getInt();
      int[] dims = new int[nd];
      for (int d = 0; d < nd; d++) {
        dims[d] = b.position();
        l.fields.add(new Field("dim of " + name, b.position(), 8));
        b.getLong();
      }
      int typePos = b.position();
      l.fields.add(new Field("type of " + name, typePos, 4));
      b.getInt();
      int offPos = b.position();
      l.fields.add(new Field("offset of " + name, offPos, 8));
      b.getLong();
      l.tensors.put(name, new TensorFields(name, ndPos, dims, typePos, offPos));
    }
    l.headerEnd = b.position();
    return l;
  }

  private String str(ByteBuffer b, String what) {
    fields.add(new Field(what, b.position(), 8));
    int len = (int) b.getLong();
    byte[] s = new byte[len];
    b.get(s);
    return new String(s, StandardCharsets.UTF_8);
  }

  private void value(ByteBuffer b, int type, String key) {
    switch (type) {
      case 0, 1, 7 -> b.get();
      case 2, 3 -> b.getShort();
      case 4, 5, 6 -> b.getInt();
      case 10, 11, 12 -> b.getLong();
      case 8 -> str(b, "string length of " + key);
      case 9 -> {
        fields.add(new Field("array type of " + key, b.position(), 4));
        int et = b.getInt();
        fields.add(new Field("array length of " + key, b.position(), 8));
        long n = b.getLong();
        for (long j = 0; j < n; j++) {
          if (et == 8) {
            int len = (int) b.getLong(); // not recorded: thousands of tokens
            b.position(b.position() + len);
          } else {
            value(b, et, key);
          }
        }
      }
      default -> throw new IllegalStateException("type " + type);
    }
  }

  static void putLong(byte[] f, int pos, long v) {
    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(pos, v);
  }

  static void putInt(byte[] f, int pos, int v) {
    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(pos, v);
  }

  static long getLong(byte[] f, int pos) {
    return ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).getLong(pos);
  }
}
