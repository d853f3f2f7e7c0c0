package org.glmmaas.worker.engine.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.engine.ForwardBatch;
import org.glmmaas.worker.modelmaker.ModelArch;
import org.glmmaas.worker.modelmaker.WeightType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged or unsupported files: every one is a clear {@link EngineException} carrying the native
 * message, never a crash of the JVM. Ends with a fuzz run of a few thousand mutations.
 */
class BadModelFilesTest {

  /** "loading X failed (STATUS): native message". */
  private static final String CLEAR =
      "(?s).*failed \\((FORMAT|UNSUPPORTED|IO|INVALID_ARGUMENT|"
          + "OUT_OF_MEMORY|NOT_FOUND)\\): \\S.*";

  @TempDir static Path dir;

  static byte[] valid;
  static GgufLayout layout;

  @BeforeAll
  static void makeValidModel() throws Exception {
    NativeTestSupport.assumeLibrary();
    Path f =
        NativeTestSupport.make(dir, ModelArch.GLM4, NativeTestSupport.MICRO, WeightType.Q8_0, 1);
    valid = Files.readAllBytes(f);
    layout = GgufLayout.scan(valid);
  }

  private static EngineOptions opts() {
    return NativeTestSupport.small(8).withThreads(1);
  }

  private static Path write(String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }

  private static void assertRejected(String name, Consumer<byte[]> edit, String... mentions)
      throws Exception {
    byte[] f = valid.clone();
    edit.accept(f);
    Path p = write(name + ".gguf", f);
    assertThatThrownBy(() -> NativeGlmEngine.open(p, opts()).close())
        .as(name)
        .isInstanceOf(EngineException.class)
        .hasMessageMatching(CLEAR)
        .satisfies(
            e -> {
              for (String m : mentions) {
                assertThat(e.getMessage().toLowerCase()).as(name).contains(m.toLowerCase());
              }
            });
  }

  @Test
  void theValidFileLoads() throws Exception {
    try (NativeGlmEngine e = NativeGlmEngine.open(write("ok.gguf", valid), opts())) {
      assertThat(e.hparams().embeddingLength()).isEqualTo(64);
    }
  }

  @Test
  void missingFileAndTruncations() throws Exception {
    assertThatThrownBy(() -> NativeGlmEngine.open(dir.resolve("nope.gguf"), opts()))
        .isInstanceOf(EngineException.class)
        .hasMessageMatching(CLEAR);
    for (int len :
        new int[] {
          0,
          3,
          8,
          20,
          100,
          layout.headerEnd - 1,
          layout.headerEnd + 40,
          valid.length / 2,
          valid.length - 1
        }) {
      Path p = write("trunc" + len + ".gguf", Arrays.copyOf(valid, len));
      assertThatThrownBy(() -> NativeGlmEngine.open(p, opts()).close())
          .as("truncated to %d bytes", len)
          .isInstanceOf(EngineException.class)
          .hasMessageMatching(CLEAR);
    }
  }

  @Test
  void wrongMagicAndVersion() throws Exception {
    assertRejected("magic", f -> f[0] = 'X');
    assertRejected("version", f -> GgufLayout.putInt(f, 4, 99), "version");
  }

  @Test
  void absurdCounts() throws Exception {
    assertRejected("tensors", f -> GgufLayout.putLong(f, 8, Long.MAX_VALUE));
    assertRejected("tensors-neg", f -> GgufLayout.putLong(f, 8, -1));
    assertRejected("kvs", f -> GgufLayout.putLong(f, 16, 1L << 40));
    GgufLayout.Field tokens = field("array length of tokenizer.ggml.tokens");
    assertRejected("array", f -> GgufLayout.putLong(f, tokens.pos(), 1L << 50));
    GgufLayout.Field nameLen = field("key length");
    assertRejected("keylen", f -> GgufLayout.putLong(f, nameLen.pos(), Long.MAX_VALUE - 3));
    GgufLayout.TensorFields q = layout.tensors.get("blk.0.attn_q.weight");
    assertRejected("ndims", f -> GgufLayout.putInt(f, q.nDimsPos(), 7));
    assertRejected("dim-zero", f -> GgufLayout.putLong(f, q.dimPos()[1], 0));
    assertRejected("dim-huge", f -> GgufLayout.putLong(f, q.dimPos()[1], 1L << 62));
  }

  @Test
  void offsetsPastTheEndMisalignedAndOverlapping() throws Exception {
    GgufLayout.TensorFields out = layout.tensors.get("output.weight");
    GgufLayout.TensorFields q = layout.tensors.get("blk.0.attn_q.weight");
    GgufLayout.TensorFields embd = layout.tensors.get("token_embd.weight");
    assertRejected("past-end", f -> GgufLayout.putLong(f, out.offsetPos(), valid.length));
    assertRejected("past-end-huge", f -> GgufLayout.putLong(f, out.offsetPos(), Long.MAX_VALUE));
    assertRejected(
        "misaligned",
        f -> GgufLayout.putLong(f, q.offsetPos(), GgufLayout.getLong(f, q.offsetPos()) + 1));
    assertRejected(
        "overlap",
        f -> GgufLayout.putLong(f, q.offsetPos(), GgufLayout.getLong(f, embd.offsetPos())));
  }

  @Test
  void unknownArchitectureAndTypes() throws Exception {
    int archPos = layout.stringValuePos.get("general.architecture");
    assertRejected(
        "arch",
        f -> {
          byte[] x = "gpt9".getBytes(StandardCharsets.US_ASCII);
          System.arraycopy(x, 0, f, archPos + 8, 4);
        },
        "gpt9");
    GgufLayout.TensorFields q = layout.tensors.get("blk.0.attn_q.weight");
    assertRejected("type-unknown", f -> GgufLayout.putInt(f, q.typePos(), 99));
    assertRejected("type-unsupported", f -> GgufLayout.putInt(f, q.typePos(), 16)); // IQ2_XXS
  }

  @Test
  void shapesThatDisagreeWithTheHyperParameters() throws Exception {
    GgufLayout.TensorFields q = layout.tensors.get("blk.0.attn_q.weight");
    assertRejected("q-rows", f -> GgufLayout.putLong(f, q.dimPos()[1], 32), "attn_q");
    GgufLayout.TensorFields up = layout.tensors.get("blk.0.ffn_up.weight");
    assertRejected("up-rows", f -> GgufLayout.putLong(f, up.dimPos()[1], 128), "ffn_up");
    int embd =
        layout.fields.stream()
                .filter(x -> x.what().equals("type of glm4.embedding_length"))
                .findFirst()
                .orElseThrow()
                .pos()
            + 4;
    assertRejected("n_embd", f -> GgufLayout.putInt(f, embd, 96));
    assertRejected(
        "missing-tensor",
        f -> {
          byte[] name = "output_norm.weight".getBytes(StandardCharsets.US_ASCII);
          int at = indexOf(f, name, layout.headerEnd);
          f[at + name.length - 1] = 'x';
        },
        "output_norm");
  }

  /**
   * Mutates the valid file a few thousand times (bit flips in the header, random bytes anywhere,
   * truncations, numeric fields set to edge values) and loads each: it either loads (and then runs
   * a step) or throws EngineException. A crash would kill the test JVM.
   */
  @Test
  void fuzzedFilesLoadOrThrowButNeverCrash() throws Exception {
    SplittableRandom rng = new SplittableRandom(20261128);
    Path p = dir.resolve("fuzz.gguf");
    int loaded = 0;
    int rejected = 0;
    int n = Integer.getInteger("glm.fuzz.iterations", 2500);
    long[] edges = {
      0,
      1,
      -1,
      2,
      3,
      31,
      32,
      33,
      64,
      255,
      4096,
      Integer.MAX_VALUE,
      0xffffffffL,
      1L << 32,
      Long.MAX_VALUE,
      Long.MIN_VALUE
    };
    for (int it = 0; it < n; it++) {
      byte[] f = valid.clone();
      int kind = rng.nextInt(100);
      if (kind < 40) {
        for (int k = 1 + rng.nextInt(4); k > 0; k--) {
          f[rng.nextInt(layout.headerEnd)] ^= (byte) (1 << rng.nextInt(8));
        }
      } else if (kind < 55) {
        f[rng.nextInt(f.length)] = (byte) rng.nextInt(256);
      } else if (kind < 70) {
        int len = rng.nextBoolean() ? rng.nextInt(layout.headerEnd + 64) : rng.nextInt(f.length);
        f = Arrays.copyOf(f, len);
      } else {
        GgufLayout.Field fl = layout.fields.get(rng.nextInt(layout.fields.size()));
        long v = rng.nextInt(4) == 0 ? rng.nextLong() : edges[rng.nextInt(edges.length)];
        if (fl.width() == 8) {
          GgufLayout.putLong(f, fl.pos(), v);
        } else {
          GgufLayout.putInt(f, fl.pos(), (int) v);
        }
      }
      Files.write(p, f);
      try (NativeGlmEngine e = NativeGlmEngine.open(p, opts())) {
        e.forward(
            new ForwardBatch(
                new int[] {1},
                new int[] {0},
                new int[] {0},
                new int[] {0},
                new int[][] {{0}},
                new int[] {0}));
        loaded++;
      } catch (EngineException e) {
        assertThat(e.getMessage()).as("iteration %d", it).isNotBlank();
        rejected++;
      }
    }
    assertThat(loaded + rejected).isEqualTo(n);
    assertThat(rejected).as("most mutations break the file").isGreaterThan(n / 4);
    System.out.printf(
        "fuzz: %d mutated files, %d loaded and ran a step, %d rejected%n", n, loaded, rejected);
  }

  private static GgufLayout.Field field(String what) {
    return layout.fields.stream().filter(x -> x.what().equals(what)).findFirst().orElseThrow();
  }

  private static int indexOf(byte[] hay, byte[] needle, int end) {
    outer:
    for (int i = end - needle.length; i >= 0; i--) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("not found");
  }
}
