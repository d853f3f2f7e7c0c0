package org.glmmaas.worker.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {

  @TempDir Path dir;

  @Test
  void metadataAndTensorsRoundTripThroughTheReader() throws Exception {
    byte[] a = new byte[3 * 4 * 5];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) i;
    }
    byte[] q = new byte[2 * 34];
    q[0] = 0x3c; // fp16 1.0 little-endian is 00 3c; any bytes are fine for the round trip
    q[40] = 7;
    GgufWriter w =
        new GgufWriter()
            .putString("general.architecture", "glm4")
            .putString("general.name", "中文 name")
            .putUint32("glm4.block_count", 4_000_000_000L)
            .putInt32("x.i32", -5)
            .putUint64("x.u64", 1L << 40)
            .putFloat32("x.f32", 1e-5f)
            .putFloat64("x.f64", Math.PI)
            .putBool("x.bool", true)
            .putStrings("x.strings", List.of("a", "", "Ġb"))
            .putInt32s("x.ints", new int[] {1, -2, 3})
            .putFloat32s("x.floats", new float[] {0.5f, -1.25f})
            .addTensor("a", GgmlType.F32, new long[] {3, 5}, a)
            .addTensor("q", GgmlType.Q8_0, new long[] {64}, q);
    Path f = dir.resolve("t.gguf");
    long size = w.write(f);

    GgufReader.GgufFile g = GgufReader.read(f);
    assertThat(Files.size(f)).isEqualTo(size);
    assertThat(g.version()).isEqualTo(3);
    GgufMetadata m = g.metadata();
    assertThat(m.string("general.name")).contains("中文 name");
    assertThat(m.integer("glm4.block_count")).contains(4_000_000_000L);
    assertThat(m.integer("x.i32")).contains(-5L);
    assertThat(m.integer("x.u64")).contains(1L << 40);
    assertThat(m.floating("x.f32")).contains((double) 1e-5f);
    assertThat(m.floating("x.f64")).contains(Math.PI);
    assertThat(m.bool("x.bool")).contains(true);
    assertThat(m.strings("x.strings")).contains(List.of("a", "", "Ġb"));
    assertThat(m.ints("x.ints")).hasValueSatisfying(v -> assertThat(v).containsExactly(1, -2, 3));
    assertThat(g.tensors()).extracting(GgufReader.TensorInfo::name).containsExactly("a", "q");
    assertThat(g.tensors().get(0).dims()).containsExactly(3, 5);
    assertThat(g.tensors().get(1).ggmlType()).isEqualTo(GgmlType.Q8_0.id);
    assertThat(g.dataOffset() % 32).isZero();
    for (GgufReader.TensorInfo t : g.tensors()) {
      assertThat(t.offset() % 32).isZero();
    }
    byte[] file = Files.readAllBytes(f);
    assertThat(slice(file, g.dataOffset() + g.tensors().get(0).offset(), a.length)).isEqualTo(a);
    assertThat(slice(file, g.dataOffset() + g.tensors().get(1).offset(), q.length)).isEqualTo(q);
    assertThat(size).isEqualTo(g.dataOffset() + g.tensors().get(1).offset() + q.length);
  }

  @Test
  void rowSourcesStreamLargeTensorsInOrder() throws Exception {
    int rows = 5000;
    int n = 256;
    GgufWriter w =
        new GgufWriter()
            .putString("general.architecture", "glm4")
            .addTensor(
                "big",
                GgmlType.F32,
                new long[] {n, rows},
                (row, dst) -> {
                  for (int i = 0; i < n; i++) {
                    dst.putFloat(row * 1000f + i);
                  }
                });
    Path f = dir.resolve("big.gguf");
    w.write(f);
    GgufReader.GgufFile g = GgufReader.read(f);
    ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    long base = g.dataOffset() + g.tensors().getFirst().offset();
    for (int row : new int[] {0, 1, 2047, 4999}) {
      for (int i : new int[] {0, 255}) {
        assertThat(data.getFloat((int) (base + ((long) row * n + i) * 4)))
            .isEqualTo(row * 1000f + i);
      }
    }
  }

  @Test
  void rejectsRowsThatAreNotWholeBlocks() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new GgufWriter().addTensor("x", GgmlType.Q4_0, new long[] {48, 2}, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multiple of 32");
  }

  private static byte[] slice(byte[] b, long off, int len) {
    byte[] out = new byte[len];
    System.arraycopy(b, (int) off, out, 0, len);
    return out;
  }
}
