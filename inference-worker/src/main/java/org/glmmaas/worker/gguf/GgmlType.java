package org.glmmaas.worker.gguf;

/** The ggml tensor types this project reads or writes, with their block geometry. */
public enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q8_0(8, 32, 34),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  BF16(30, 1, 2);

  /** The number GGUF stores. */
  public final int id;

  /** Values per block. */
  public final int blockSize;

  /** Bytes per block. */
  public final int typeSize;

  GgmlType(int id, int blockSize, int typeSize) {
    this.id = id;
    this.blockSize = blockSize;
    this.typeSize = typeSize;
  }

  /** Bytes of one row of {@code n} values; {@code n} must be a whole number of blocks. */
  public long rowBytes(long n) {
    if (n % blockSize != 0) {
      throw new IllegalArgumentException(
          this + " rows need a multiple of " + blockSize + " values, not " + n);
    }
    return n / blockSize * typeSize;
  }

  public static GgmlType byId(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown ggml type " + id);
  }
}
