package org.glmmaas.worker.gguf;

import java.util.Optional;

/**
 * The ggml tensor types a GGUF file may name, with their block geometry: the one type table of the
 * Java side. It mirrors the native engine's ({@code inference-worker/native/src/ggml_types.h});
 * {@code GgmlTypeTableTest} checks the two agree, type by type, through {@code glm_type_info}.
 */
public enum GgmlType {
  F32(0, 1, 4, true),
  F16(1, 1, 2, true),
  Q4_0(2, 32, 18, true),
  Q4_1(3, 32, 20, false),
  Q5_0(6, 32, 22, false),
  Q5_1(7, 32, 24, false),
  Q8_0(8, 32, 34, true),
  Q8_1(9, 32, 36, false),
  Q2_K(10, 256, 84, false),
  Q3_K(11, 256, 110, false),
  Q4_K(12, 256, 144, true),
  Q5_K(13, 256, 176, true),
  Q6_K(14, 256, 210, true),
  Q8_K(15, 256, 292, false),
  IQ2_XXS(16, 256, 66, false),
  IQ2_XS(17, 256, 74, false),
  IQ3_XXS(18, 256, 98, false),
  IQ1_S(19, 256, 50, false),
  IQ4_NL(20, 32, 18, false),
  IQ3_S(21, 256, 110, false),
  IQ2_S(22, 256, 82, false),
  IQ4_XS(23, 256, 136, false),
  I8(24, 1, 1, false),
  I16(25, 1, 2, false),
  I32(26, 1, 4, false),
  I64(27, 1, 8, false),
  F64(28, 1, 8, false),
  IQ1_M(29, 256, 56, false),
  BF16(30, 1, 2, true),
  TQ1_0(34, 256, 54, false),
  TQ2_0(35, 256, 66, false),
  MXFP4(39, 32, 17, false);

  /** The number GGUF stores. */
  public final int id;

  /** Values per block. */
  public final int blockSize;

  /** Bytes per block. */
  public final int typeSize;

  /** Whether the native engine computes with tensors of this type (others it only sizes). */
  public final boolean runnable;

  GgmlType(int id, int blockSize, int typeSize, boolean runnable) {
    this.id = id;
    this.blockSize = blockSize;
    this.typeSize = typeSize;
    this.runnable = runnable;
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
    return find(id).orElseThrow(() -> new IllegalArgumentException("unknown ggml type " + id));
  }

  /** The type numbered {@code id}, if the table has it. */
  public static Optional<GgmlType> find(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
