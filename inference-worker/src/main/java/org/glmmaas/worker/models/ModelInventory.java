package org.glmmaas.worker.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.glmmaas.worker.gguf.GgmlType;
import org.glmmaas.worker.gguf.GgufFileType;
import org.glmmaas.worker.gguf.GgufFormatException;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;
import org.glmmaas.worker.lifecycle.MemoryPlan;

/**
 * What is in a model folder: architecture, size, tensor types, context length and the memory each
 * model needs to serve (weights, about 1.1 x once loaded on the CPU engine, plus an f16 KV cache
 * for the whole context), and whether the engine runs its tensor types.
 */
public final class ModelInventory {

  /** Tensor types the native engine runs, by name (the runnable rows of {@link GgmlType}). */
  public static final Set<String> ENGINE_TYPES =
      Arrays.stream(GgmlType.values())
          .filter(t -> t.runnable)
          .map(GgmlType::name)
          .collect(Collectors.toUnmodifiableSet());

  /**
   * @param fileType general.file_type by name ("Q4_K_M"; a K-quant file mixes tensor types)
   * @param kvBytesFullContext an f16 KV cache for one sequence of the full training context
   * @param experts routed experts of a mixture-of-experts model ({@code ARCH.expert_count}), 0 when
   *     dense
   * @param expertsUsed experts each token runs ({@code ARCH.expert_used_count})
   * @param activeParameters parameters one token reads: all but the routed experts', plus
   *     expertsUsed / experts of those (numParameters for a dense model)
   */
  public record LocalModel(
      Path path,
      String name,
      String architecture,
      long numParameters,
      String fileType,
      Map<String, Integer> tensorTypes,
      long contextLength,
      long fileBytes,
      long kvBytesFullContext,
      String error,
      int experts,
      int expertsUsed,
      long activeParameters) {

    /** A dense model. */
    public LocalModel(
        Path path,
        String name,
        String architecture,
        long numParameters,
        String fileType,
        Map<String, Integer> tensorTypes,
        long contextLength,
        long fileBytes,
        long kvBytesFullContext,
        String error) {
      this(
          path,
          name,
          architecture,
          numParameters,
          fileType,
          tensorTypes,
          contextLength,
          fileBytes,
          kvBytesFullContext,
          error,
          0,
          0,
          numParameters);
    }

    /**
     * Memory to serve one full-context sequence, once loaded (the weights about 1.1 x, see
     * MemoryPlan).
     */
    public long memoryBytes() {
      return (long) (fileBytes * MemoryPlan.STEADY_FACTOR) + kvBytesFullContext;
    }

    /** Tensor types of this file the engine cannot run (empty: it loads). */
    public Set<String> unsupportedTypes() {
      Set<String> out = new TreeSet<>(tensorTypes.keySet());
      out.removeAll(ENGINE_TYPES);
      return out;
    }
  }

  /** A later part of a split model (PREFIX-0000K-of-0000N.gguf, K > 1). */
  private static final Pattern LATER_PART = Pattern.compile(".+-(?!00001)\\d{5}-of-\\d{5}\\.gguf");

  private ModelInventory() {}

  public static List<LocalModel> scan(Path dir) throws IOException {
    List<LocalModel> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p :
          files
              .filter(f -> f.getFileName().toString().endsWith(".gguf"))
              // a split model is listed once, by its first part (which counts all its parts)
              .filter(f -> !LATER_PART.matcher(f.getFileName().toString()).matches())
              .sorted()
              .toList()) {
        out.add(describe(p));
      }
    }
    return out;
  }

  public static LocalModel describe(Path p) throws IOException {
    String name = p.getFileName().toString().replaceFirst("\\.gguf$", "");
    long size = Files.size(p);
    try {
      GgufReader.GgufFile f = GgufReader.read(p);
      GgufMetadata m = f.metadata();
      List<GgufReader.TensorInfo> tensors = new ArrayList<>(f.tensors());
      long splitCount = m.integer("split.count").orElse(1L);
      if (splitCount > 1) {
        // a split model (gguf-split): its metadata is in the first part, its tensors in all
        long no = m.integer("split.no").orElse(0L);
        var first = ModelDownloader.SPLIT_FIRST.matcher(p.getFileName().toString());
        if (no != 0 || !first.matches()) {
          return new LocalModel(
              p,
              name,
              "?",
              0,
              "?",
              Map.of(),
              0,
              size,
              0,
              no != 0
                  ? "part "
                      + (no + 1)
                      + " of "
                      + splitCount
                      + " of a split model: use its first part"
                  : "first part of a split model, not named PREFIX-00001-of-"
                      + String.format(Locale.ROOT, "%05d", splitCount)
                      + ".gguf: its other parts cannot be found");
        }
        for (int i = 2; i <= splitCount; i++) {
          Path part =
              p.resolveSibling(
                  String.format(
                      Locale.ROOT, "%s-%05d-of-%05d.gguf", first.group(1), i, splitCount));
          if (!Files.isRegularFile(part)) {
            return new LocalModel(
                p,
                name,
                m.string("general.architecture").orElse("?"),
                0,
                "?",
                Map.of(),
                0,
                size,
                0,
                "split model: part "
                    + i
                    + " of "
                    + splitCount
                    + " ("
                    + part.getFileName()
                    + ") is missing");
          }
          size += Files.size(part);
          tensors.addAll(GgufReader.read(part).tensors());
        }
      }
      String arch = m.string("general.architecture").orElse("?");
      long params = 0;
      long expertParams = 0;
      Map<String, Integer> types = new TreeMap<>();
      for (GgufReader.TensorInfo t : tensors) {
        long n = 1;
        for (long d : t.dims()) {
          n = Math.multiplyExact(n, d);
        }
        params += n;
        if (t.name().contains("_exps.")) {
          expertParams += n;
        }
        types.merge(typeName(t.ggmlType()), 1, Integer::sum);
      }
      long ctx = m.integer(arch + ".context_length").orElse(0L);
      long layers = m.integer(arch + ".block_count").orElse(0L);
      long heads = m.integer(arch + ".attention.head_count").orElse(1L);
      long kvHeads = m.integer(arch + ".attention.head_count_kv").orElse(heads);
      long embd = m.integer(arch + ".embedding_length").orElse(0L);
      long headDim = m.integer(arch + ".attention.key_length").orElse(heads > 0 ? embd / heads : 0);
      long kv = 2L * layers * ctx * kvHeads * headDim * 2;
      String fileType = GgufFileType.name(m.integer("general.file_type").orElse(-1L));
      int experts = (int) (long) m.integer(arch + ".expert_count").orElse(0L);
      int used = (int) (long) m.integer(arch + ".expert_used_count").orElse(0L);
      long active =
          experts > 0 && expertParams > 0
              ? params - expertParams + expertParams / experts * used
              : params;
      return new LocalModel(
          p, name, arch, params, fileType, types, ctx, size, kv, null, experts, used, active);
    } catch (GgufFormatException | ArithmeticException e) {
      return new LocalModel(
          p, name, "?", 0, "?", Map.of(), 0, size, 0, "not a valid GGUF: " + e.getMessage());
    }
  }

  /** ggml type names of the numbers GGUF files use ("type40" for a number the table lacks). */
  static String typeName(int t) {
    return GgmlType.find(t).map(GgmlType::name).orElse("type" + t);
  }
}
