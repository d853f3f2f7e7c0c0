package org.glmmaas.worker.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Row quantisers and dequantisers for the ggml block layouts this project writes (F16, Q8_0, Q4_0,
 * Q6_K), following the layouts of ggml's reference quantisation (ggml-quants.c): written from the
 * layout facts, deterministic, pure Java. Every method reads {@code n} floats from {@code x[off..]}
 * and writes or reads exactly {@link GgmlType#rowBytes(long)} bytes at the buffer's position
 * (little-endian), advancing it.
 */
public final class Quants {

  private static final float GROUP_MAX_EPS = 1e-15f;

  private Quants() {}

  /** Writes one row of {@code type}. */
  public static void quantizeRow(GgmlType type, float[] x, int off, int n, ByteBuffer dst) {
    ByteBuffer d = dst.order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          d.putFloat(x[off + i]);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          d.putShort(Float.floatToFloat16(x[off + i]));
        }
      }
      case Q8_0 -> q8_0(x, off, n, d);
      case Q4_0 -> q4_0(x, off, n, d);
      case Q6_K -> q6_K(x, off, n, d);
      default -> throw new IllegalArgumentException("no quantiser for " + type);
    }
  }

  /** Reads one row of {@code type} into {@code y[off..off+n)}. */
  public static void dequantizeRow(GgmlType type, ByteBuffer src, float[] y, int off, int n) {
    ByteBuffer s = src.order(ByteOrder.LITTLE_ENDIAN);
    type.rowBytes(n);
    switch (type) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          y[off + i] = s.getFloat();
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          y[off + i] = Float.float16ToFloat(s.getShort());
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          y[off + i] = Float.intBitsToFloat((s.getShort() & 0xffff) << 16);
        }
      }
      case Q8_0 -> {
        for (int b = 0; b < n / 32; b++) {
          float dd = Float.float16ToFloat(s.getShort());
          for (int j = 0; j < 32; j++) {
            y[off + b * 32 + j] = s.get() * dd;
          }
        }
      }
      case Q4_0 -> {
        for (int b = 0; b < n / 32; b++) {
          float dd = Float.float16ToFloat(s.getShort());
          int base = off + b * 32;
          for (int j = 0; j < 16; j++) {
            int q = s.get() & 0xff;
            y[base + j] = ((q & 0x0f) - 8) * dd;
            y[base + j + 16] = ((q >>> 4) - 8) * dd;
          }
        }
      }
      case Q6_K -> dequantizeQ6_K(s, y, off, n);
      default -> throw new IllegalArgumentException("no dequantiser for " + type);
    }
  }

  // ---- Q8_0: 32 values, f16 scale amax/127, int8 round-half-away ----

  private static void q8_0(float[] x, int off, int n, ByteBuffer d) {
    GgmlType.Q8_0.rowBytes(n);
    for (int b = 0; b < n / 32; b++) {
      int base = off + b * 32;
      float amax = 0;
      for (int j = 0; j < 32; j++) {
        amax = Math.max(amax, Math.abs(x[base + j]));
      }
      float scale = amax / 127;
      float id = scale != 0 ? 1.0f / scale : 0.0f;
      d.putShort(Float.floatToFloat16(scale));
      for (int j = 0; j < 32; j++) {
        d.put((byte) roundf(x[base + j] * id));
      }
    }
  }

  // ---- Q4_0: 32 values, f16 scale max/-8 (signed max), nibbles j | j+16 << 4 ----

  private static void q4_0(float[] x, int off, int n, ByteBuffer d) {
    GgmlType.Q4_0.rowBytes(n);
    for (int b = 0; b < n / 32; b++) {
      int base = off + b * 32;
      float amax = 0;
      float max = 0;
      for (int j = 0; j < 32; j++) {
        float v = x[base + j];
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      float scale = max / -8;
      float id = scale != 0 ? 1.0f / scale : 0.0f;
      d.putShort(Float.floatToFloat16(scale));
      for (int j = 0; j < 16; j++) {
        int q0 = Math.min(15, (int) (x[base + j] * id + 8.5f));
        int q1 = Math.min(15, (int) (x[base + 16 + j] * id + 8.5f));
        d.put((byte) (q0 | (q1 << 4)));
      }
    }
  }

  // ---- Q6_K: super-blocks of 256 = 16 sub-blocks of 16; ql[128] qh[64] scales[16] d(f16) ----

  private static void q6_K(float[] x, int off, int n, ByteBuffer d) {
    GgmlType.Q6_K.rowBytes(n);
    byte[] levels = new byte[256];
    float[] scales = new float[16];
    for (int b = 0; b < n / 256; b++) {
      int base = off + b * 256;
      float maxScale = 0;
      float maxAbsScale = 0;
      for (int ib = 0; ib < 16; ib++) {
        float s = makeQxQuants(16, 32, x, base + 16 * ib, levels, 16 * ib);
        scales[ib] = s;
        if (Math.abs(s) > maxAbsScale) {
          maxAbsScale = Math.abs(s);
          maxScale = s;
        }
      }
      if (maxAbsScale < GROUP_MAX_EPS) {
        for (int i = 0; i < 208; i++) {
          d.put((byte) 0);
        }
        d.putShort(Float.floatToFloat16(0f));
        continue;
      }
      float iscale = -128f / maxScale;
      short dh = Float.floatToFloat16(1 / iscale);
      byte[] sc = new byte[16];
      for (int ib = 0; ib < 16; ib++) {
        sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
      }
      float df = Float.float16ToFloat(dh);
      for (int j = 0; j < 16; j++) {
        float dd = df * sc[j];
        if (dd == 0) {
          continue;
        }
        for (int ii = 0; ii < 16; ii++) {
          int l = nearestInt(x[base + 16 * j + ii] / dd);
          l = Math.max(-32, Math.min(31, l));
          levels[16 * j + ii] = (byte) (l + 32);
        }
      }
      byte[] ql = new byte[128];
      byte[] qh = new byte[64];
      for (int half = 0; half < 2; half++) {
        int j = half * 128;
        for (int l = 0; l < 32; l++) {
          int q1 = levels[j + l] & 0xf;
          int q2 = levels[j + l + 32] & 0xf;
          int q3 = levels[j + l + 64] & 0xf;
          int q4 = levels[j + l + 96] & 0xf;
          ql[half * 64 + l] = (byte) (q1 | (q3 << 4));
          ql[half * 64 + l + 32] = (byte) (q2 | (q4 << 4));
          qh[half * 32 + l] =
              (byte)
                  ((levels[j + l] >> 4)
                      | ((levels[j + l + 32] >> 4) << 2)
                      | ((levels[j + l + 64] >> 4) << 4)
                      | ((levels[j + l + 96] >> 4) << 6));
        }
      }
      d.put(ql).put(qh).put(sc).putShort(dh);
    }
  }

  private static void dequantizeQ6_K(ByteBuffer s, float[] y, int off, int n) {
    byte[] ql = new byte[128];
    byte[] qh = new byte[64];
    byte[] sc = new byte[16];
    for (int b = 0; b < n / 256; b++) {
      s.get(ql).get(qh).get(sc);
      float dd = Float.float16ToFloat(s.getShort());
      for (int half = 0; half < 2; half++) {
        int yo = off + b * 256 + half * 128;
        for (int l = 0; l < 32; l++) {
          int is = l / 16;
          int lo0 = ql[half * 64 + l] & 0xff;
          int lo1 = ql[half * 64 + l + 32] & 0xff;
          int h = qh[half * 32 + l] & 0xff;
          int q1 = ((lo0 & 0xf) | ((h & 3) << 4)) - 32;
          int q2 = ((lo1 & 0xf) | (((h >> 2) & 3) << 4)) - 32;
          int q3 = ((lo0 >> 4) | (((h >> 4) & 3) << 4)) - 32;
          int q4 = ((lo1 >> 4) | (((h >> 6) & 3) << 4)) - 32;
          int sb = half * 8;
          y[yo + l] = dd * sc[sb + is] * q1;
          y[yo + l + 32] = dd * sc[sb + is + 2] * q2;
          y[yo + l + 64] = dd * sc[sb + is + 4] * q3;
          y[yo + l + 96] = dd * sc[sb + is + 6] * q4;
        }
      }
    }
  }

  /**
   * The best scale for {@code n} values on levels -nmax..nmax-1 under a weighted (x²) squared
   * error, searching 19 candidate inverse scales around nmax/max; levels (offset by nmax) go to
   * {@code levels[lo..]}.
   */
  private static float makeQxQuants(int n, int nmax, float[] x, int xo, byte[] levels, int lo) {
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; i++) {
      float ax = Math.abs(x[xo + i]);
      if (ax > amax) {
        amax = ax;
        max = x[xo + i];
      }
    }
    if (amax < GROUP_MAX_EPS) {
      for (int i = 0; i < n; i++) {
        levels[lo + i] = 0;
      }
      return 0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; i++) {
      float v = x[xo + i];
      int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
      levels[lo + i] = (byte) (l + nmax);
      float w = v * v;
      sumlx += w * v * l;
      suml2 += w * l * l;
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
      if (is == 0) {
        continue;
      }
      iscale = -(nmax + 0.1f * is) / max;
      sumlx = 0;
      suml2 = 0;
      for (int i = 0; i < n; i++) {
        float v = x[xo + i];
        int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
        float w = v * v;
        sumlx += w * v * l;
        suml2 += w * l * l;
      }
      if (suml2 > 0 && sumlx * sumlx > best * suml2) {
        for (int i = 0; i < n; i++) {
          int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
          levels[lo + i] = (byte) (l + nmax);
        }
        scale = sumlx / suml2;
        best = scale * sumlx;
      }
    }
    return scale;
  }

  /** Round half to even through the float mantissa, as ggml's nearest_int (|v| < 2^22). */
  static int nearestInt(float v) {
    float t = v + 12582912.f;
    return (Float.floatToRawIntBits(t) & 0x007fffff) - 0x00400000;
  }

  /** C roundf: half away from zero. */
  static int roundf(float v) {
    double a = Math.floor(Math.abs((double) v) + 0.5);
    return (int) Math.copySign(a, v);
  }
}
