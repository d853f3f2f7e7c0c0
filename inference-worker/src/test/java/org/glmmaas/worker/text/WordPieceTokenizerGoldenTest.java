package org.glmmaas.worker.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Every case of every {@code glm-embed-tokenizer-v1} golden file (llama.cpp's WPM tokenization of
 * {@code ../shared/reference2}, plus any folder in {@code glm.embed.golden.dirs}): ids with and
 * without special-token parsing, and both detokenizations.
 */
class WordPieceTokenizerGoldenTest {

  private static final Map<Path, WordPieceTokenizer> TOKENIZERS = new ConcurrentHashMap<>();

  /** reference2/golden, then every extra folder; each with its models in ../models. */
  static List<Path> goldenDirs() {
    List<Path> dirs = new ArrayList<>();
    Path shared = ReferenceFiles.sharedDir();
    if (shared != null && Files.isDirectory(shared.resolve("reference2/golden"))) {
      dirs.add(shared.resolve("reference2/golden"));
    }
    for (String d :
        System.getProperty("glm.embed.golden.dirs", "").split(java.io.File.pathSeparator)) {
      if (!d.isBlank() && Files.isDirectory(Path.of(d))) {
        dirs.add(Path.of(d));
      }
    }
    return dirs;
  }

  static Stream<Arguments> cases() throws IOException {
    List<Arguments> cases = new ArrayList<>();
    for (Path dir : goldenDirs()) {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path file : files.sorted().toList()) {
          if (!file.getFileName().toString().endsWith(".json")) {
            continue;
          }
          JsonNode root = ReferenceFiles.json(file);
          if (!root.path("schema").asString("").equals("glm-embed-tokenizer-v1")) {
            continue;
          }
          Path model = dir.resolveSibling("models").resolve(root.get("model_file").asString());
          for (JsonNode c : root.get("tokenize")) {
            String name = file.getFileName() + " #" + c.get("id").asString();
            cases.add(Arguments.of(Named.of(name, c), model));
          }
        }
      }
    }
    if (cases.isEmpty()) {
      cases.add(Arguments.of(Named.of("no reference2 files", null), null));
    }
    return cases.stream();
  }

  static WordPieceTokenizer tokenizer(Path model) {
    return TOKENIZERS.computeIfAbsent(
        model,
        p -> {
          try {
            return WordPieceTokenizer.fromMetadata(GgufReader.read(p).metadata());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  @ParameterizedTest
  @MethodSource("cases")
  void equalsLlamaCppWpm(JsonNode c, Path model) {
    assumeTrue(c != null, "../shared/reference2 not present (glm.shared.dir)");
    WordPieceTokenizer tok = tokenizer(model);
    String text = c.get("text").asString();
    int[] ids = ReferenceFiles.ints(c.get("ids"));

    assertThat(tok.encode(text, true, true)).as("ids with special parsing").containsExactly(ids);
    assertThat(tok.encode(text, true, false))
        .as("ids without special parsing")
        .containsExactly(ReferenceFiles.ints(c.get("ids_no_parse_special")));
    assertThat(tok.decode(ids, false)).as("detok").isEqualTo(c.get("detok").asString());
    assertThat(tok.decode(ids, true))
        .as("detok, special removed")
        .isEqualTo(c.get("detok_remove_special").asString());
  }

  @Test
  void aChatVocabularyIsRefused() {
    GgufMetadata gpt2 = new GgufMetadata(Map.of("tokenizer.ggml.model", "gpt2"));
    assertThatThrownBy(() -> WordPieceTokenizer.fromMetadata(gpt2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'gpt2'");
  }

  @Test
  void wordsSplitAtPunctuationAndCjkAndDropControlChars() {
    Path shared = ReferenceFiles.sharedDir();
    assumeTrue(shared != null && Files.isDirectory(shared.resolve("reference2/models")));
    WordPieceTokenizer tok = tokenizer(shared.resolve("reference2/models/tiny-bert-f32.gguf"));
    assertThat(tok.preTokenize("x\u200by Ａ，中文 Café\u0301！"))
        .containsExactly("xy", "ａ", "，", "中", "文", "cafe", "！");
    // a word with an unmatched part is ONE [UNK]
    assertThat(tok.encode("a😀b", false, true)).containsExactly(tok.unknownId());
  }
}
