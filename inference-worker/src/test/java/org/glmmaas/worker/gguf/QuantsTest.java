package org.glmmaas.worker.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class QuantsTest {

  private static float[] gaussian(int n, long seed, float std) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian() * std;
    }
    return x;
  }

  private static float[] roundTrip(GgmlType t, float[] x) {
    ByteBuffer b = ByteBuffer.allocate((int) t.rowBytes(x.length));
    Quants.quantizeRow(t, x, 0, x.length, b);
    assertThat(b.remaining()).as("%s writes exactly rowBytes", t).isZero();
    b.flip();
    float[] y = new float[x.length];
    Quants.dequantizeRow(t, b, y, 0, y.length);
    assertThat(b.remaining()).isZero();
    return y;
  }

  @ParameterizedTest
  @EnumSource(
      value = GgmlType.class,
      names = {"F16", "Q8_0", "Q4_0", "Q6_K"})
  void errorStaysWithinHalfAStepOfEachBlock(GgmlType t) {
    float[] x = gaussian(4096, 11, 0.02f);
    float[] y = roundTrip(t, x);
    int bs = t == GgmlType.F16 ? 1 : t.blockSize;
    for (int b = 0; b < x.length / bs; b++) {
      float amax = 0;
      for (int i = 0; i < bs; i++) {
        amax = Math.max(amax, Math.abs(x[b * bs + i]));
      }
      // the error bound of each format: half a step, plus the f16 rounding of the scale
      // (up to 127 steps * 2^-11); Q4_0 clamps +amax to level 7 when the extreme is negative,
      // a full step
      for (int i = 0; i < bs; i++) {
        float v = x[b * bs + i];
        float bound =
            switch (t) {
              case F16 -> Math.max(Math.abs(v) * 0x1p-11f, 0x1p-25f);
              case Q8_0 -> amax / 127 * (0.5f + 127 * 0x1p-11f);
              case Q4_0 -> amax / 8 * (1 + 8 * 0x1p-11f);
              default -> amax / 31 * 1.3f * 0.5f; // Q6_K: 6 bits with 8-bit sub-block scales
            };
        assertThat(Math.abs(y[b * bs + i] - v))
            .as("%s block %d value %d", t, b, i)
            .isLessThanOrEqualTo(bound * 1.0001f);
      }
    }
  }

  @Test
  void relativeErrorsAreWhatTheBitWidthsPromise() {
    float[] x = gaussian(1 << 16, 3, 1f);
    assertThat(rmsRel(x, roundTrip(GgmlType.Q8_0, x))).isLessThan(0.01);
    assertThat(rmsRel(x, roundTrip(GgmlType.Q6_K, x))).isLessThan(0.03);
    assertThat(rmsRel(x, roundTrip(GgmlType.Q4_0, x))).isLessThan(0.15);
    assertThat(rmsRel(x, roundTrip(GgmlType.F16, x))).isLessThan(1e-3);
  }

  @Test
  void exactLevelsSurviveQ8AndQ4() {
    float[] x = new float[32];
    for (int i = 0; i < 32; i++) {
      x[i] = (i % 16 - 8) * 0.5f; // extreme -4: scale 0.5, every value on a level
    }
    assertThat(roundTrip(GgmlType.Q4_0, x)).containsExactly(x);
    float[] z = new float[32];
    assertThat(roundTrip(GgmlType.Q8_0, z)).containsExactly(z);
    for (float v : roundTrip(GgmlType.Q6_K, new float[256])) {
      assertThat(v == 0f).as("an all-zero Q6_K block dequantises to zeros").isTrue();
    }
  }

  @Test
  void roundingFollowsC() {
    assertThat(Quants.roundf(2.5f)).isEqualTo(3);
    assertThat(Quants.roundf(-2.5f)).isEqualTo(-3);
    assertThat(Quants.roundf(0.49999997f)).isZero();
    assertThat(Quants.nearestInt(2.5f)).isEqualTo(2);
    assertThat(Quants.nearestInt(3.5f)).isEqualTo(4);
    assertThat(Quants.nearestInt(-3.5f)).isEqualTo(-4);
  }

  private static double rmsRel(float[] x, float[] y) {
    double e = 0;
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      e += (x[i] - y[i]) * (double) (x[i] - y[i]);
      s += x[i] * (double) x[i];
    }
    return Math.sqrt(e / s);
  }
}
