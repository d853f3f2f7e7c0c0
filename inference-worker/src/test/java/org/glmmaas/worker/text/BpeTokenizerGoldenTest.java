package org.glmmaas.worker.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Every case of every {@code tokenizer-*.json} golden file (llama.cpp's own tokenization) and every
 * text/chat prompt's {@code prompt_ids} in the {@code *.prompts-*.json} files.
 */
class BpeTokenizerGoldenTest {

  static Stream<Arguments> tokenizerCases() {
    List<Arguments> cases = new ArrayList<>();
    for (Path file : ReferenceFiles.goldenFiles("tokenizer-*.json")) {
      JsonNode root = ReferenceFiles.json(file);
      String model = root.path("model_file").asString("tiny-glm4-f32.gguf");
      for (JsonNode c : root.get("tokenize")) {
        String name =
            file.getFileName()
                + " #"
                + c.path("id").asString()
                + " "
                + abbreviate(c.get("text").asString());
        cases.add(Arguments.of(Named.of(name, c), model));
      }
    }
    if (cases.isEmpty()) {
      cases.add(Arguments.of(Named.of("no reference files", null), ""));
    }
    return cases.stream();
  }

  @ParameterizedTest
  @MethodSource("tokenizerCases")
  void equalsLlamaCpp(JsonNode c, String model) {
    ReferenceFiles.assumeAvailable();
    Tokenizer tok = ReferenceFiles.textModel(model).tokenizer();
    String text = c.get("text").asString();

    assertThat(tok.encode(text, true))
        .as("ids with special parsing")
        .containsExactly(ReferenceFiles.ints(c.get("ids_parse_special")));
    assertThat(tok.encode(text, false))
        .as("ids without special parsing")
        .containsExactly(ReferenceFiles.ints(c.get("ids_no_parse_special")));
    assertThat(tok.decode(ReferenceFiles.ints(c.get("ids_parse_special"))))
        .as("detokenized")
        .isEqualTo(c.get("detok_parse_special").asString());
  }

  static Stream<Arguments> promptCases() {
    List<Arguments> cases = new ArrayList<>();
    for (Path file : ReferenceFiles.goldenFiles("*.prompts-*.json")) {
      JsonNode root = ReferenceFiles.json(file);
      String model = root.get("model_file").asString();
      for (JsonNode p : root.get("prompts")) {
        String kind = p.get("kind").asString();
        if (kind.equals("text") || kind.equals("chat")) {
          cases.add(
              Arguments.of(Named.of(file.getFileName() + " " + p.get("id").asString(), p), model));
        }
      }
    }
    if (cases.isEmpty()) {
      cases.add(Arguments.of(Named.of("no reference files", null), ""));
    }
    return cases.stream();
  }

  @ParameterizedTest
  @MethodSource("promptCases")
  void promptIdsEqualLlamaCpp(JsonNode p, String model) {
    ReferenceFiles.assumeAvailable();
    Tokenizer tok = ReferenceFiles.textModel(model).tokenizer();
    String text =
        p.get("kind").asString().equals("chat")
            ? p.get("rendered_text").asString()
            : p.get("text").asString();
    assertThat(tok.encode(text, true)).containsExactly(ReferenceFiles.ints(p.get("prompt_ids")));
  }

  private static String abbreviate(String s) {
    String oneLine = s.replace("\n", "\\n").replace("\r", "\\r");
    return oneLine.length() > 40 ? oneLine.substring(0, 40) + "…" : oneLine;
  }
}
