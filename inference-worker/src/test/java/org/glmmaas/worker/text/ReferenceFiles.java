package org.glmmaas.worker.text;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.glmmaas.worker.gguf.GgufMetadata;
import org.glmmaas.worker.gguf.GgufReader;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reference models and golden files of {@code ../shared/reference} (system property {@code
 * glm.shared.dir}); tests that need them skip when the folder is absent. Extra golden folders (e.g.
 * a held-out set in the same format) can be named in {@code glm.text.golden.dirs} (path-separator
 * separated).
 */
final class ReferenceFiles {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Map<Path, GgufMetadata> METADATA = new ConcurrentHashMap<>();

  private ReferenceFiles() {}

  static Path sharedDir() {
    String dir = System.getProperty("glm.shared.dir");
    return dir == null ? null : Path.of(dir);
  }

  static boolean available() {
    Path shared = sharedDir();
    return shared != null && Files.isDirectory(shared.resolve("reference/golden"));
  }

  static void assumeAvailable() {
    assumeTrue(available(), "../shared/reference not present (glm.shared.dir)");
  }

  static Path modelsDir() {
    return sharedDir().resolve("reference/models");
  }

  /** Golden files matching the glob in reference/golden and in every extra golden folder. */
  static List<Path> goldenFiles(String glob) {
    List<Path> dirs = new ArrayList<>();
    if (available()) {
      dirs.add(sharedDir().resolve("reference/golden"));
    }
    String extra = System.getProperty("glm.text.golden.dirs", "");
    for (String d : extra.split(java.io.File.pathSeparator)) {
      if (!d.isBlank() && Files.isDirectory(Path.of(d))) {
        dirs.add(Path.of(d));
      }
    }
    List<Path> files = new ArrayList<>();
    for (Path dir : dirs) {
      try (Stream<Path> s = Files.list(dir)) {
        var matcher = dir.getFileSystem().getPathMatcher("glob:" + glob);
        s.filter(p -> matcher.matches(p.getFileName())).sorted().forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return files;
  }

  static JsonNode json(Path file) {
    return JSON.readTree(file.toFile());
  }

  /** The metadata of a reference model (by file name), or of tiny-glm4 when that file is absent. */
  static GgufMetadata metadata(String modelFile) {
    Path path = modelsDir().resolve(modelFile);
    if (!Files.exists(path)) {
      path = modelsDir().resolve("tiny-glm4-f32.gguf");
    }
    return METADATA.computeIfAbsent(
        path,
        p -> {
          try {
            return GgufReader.read(p).metadata();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  private static final Map<String, GlmTextModel> MODELS = new ConcurrentHashMap<>();

  /** The text model of a reference model file, built once per test run. */
  static GlmTextModel textModel(String modelFile) {
    return MODELS.computeIfAbsent(modelFile, f -> GlmTextModel.of(metadata(f)));
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
