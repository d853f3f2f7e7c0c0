package org.glmmaas.worker.modelmaker;

import java.util.Locale;
import org.glmmaas.worker.gguf.GgmlType;

/** The tensor type of a made model's 2-D weights (1-D norms and biases stay F32). */
public enum WeightType {
  F32(GgmlType.F32, 0),
  F16(GgmlType.F16, 1),
  Q8_0(GgmlType.Q8_0, 7),
  Q4_0(GgmlType.Q4_0, 2);

  public final GgmlType ggml;

  /** llama's general.file_type for a file of this type. */
  public final int fileType;

  WeightType(GgmlType ggml, int fileType) {
    this.ggml = ggml;
    this.fileType = fileType;
  }

  public static WeightType parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "f32" -> F32;
      case "f16" -> F16;
      case "q8_0" -> Q8_0;
      case "q4_0" -> Q4_0;
      default ->
          throw new IllegalArgumentException("unknown type '" + s + "': f32, f16, q8_0 or q4_0");
    };
  }
}
