package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class TextCommandsTest {

  private record Result(int code, String out, String err) {}

  private static Result tokenize(String... args) {
    return call(true, args);
  }

  private static Result chat(String... args) {
    return call(false, args);
  }

  private static Result call(boolean tokenize, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    int code = tokenize ? TokenizeCommand.run(args, o, e) : ChatCommand.run(args, o, e);
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static String model() {
    String shared = System.getProperty("glm.shared.dir");
    Path p = shared == null ? null : Path.of(shared, "reference/models/tiny-glm4-f32.gguf");
    assumeTrue(p != null && Files.exists(p), "reference models not present");
    return p.toString();
  }

  @Test
  void tokenizeJsonGivesTheReferenceIdsAndText() {
    Result r =
        tokenize("--model", model(), "--text", "[gMASK]<sop><|user|>\n你好<|assistant|>", "--json");
    assertThat(r.code()).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(r.out());
    assertThat(json.get("ids").toString()).isEqualTo("[1502,1504,1507,10,310,160,676,1508]");
    assertThat(json.get("text").asString()).isEqualTo("[gMASK]<sop><|user|>\n你好<|assistant|>");
  }

  @Test
  void tokenizeNoSpecialTreatsControlTextAsText() {
    Result r = tokenize("--model", model(), "--text", "<sop>", "--no-special", "--json");
    JsonNode json = JsonMapper.builder().build().readTree(r.out());
    assertThat(json.get("ids").size()).isGreaterThan(1);
    assertThat(json.get("text").asString()).isEqualTo("<sop>");
  }

  @Test
  void tokenizeReadableOutputListsThePieces() {
    Result r = tokenize("--model", model(), "--text", "Hello world");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("tokens").contains("decoded: Hello world");
  }

  @Test
  void chatJsonRendersTheTemplateWithTheGenerationPrompt() {
    Result r =
        chat(
            "--model", model(), "--messages", "[{\"role\":\"user\",\"content\":\"你好\"}]", "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(r.out());
    assertThat(json.get("rendered").asString())
        .isEqualTo("[gMASK]<sop><|user|>\n你好<|assistant|>\n");
    assertThat(json.get("ids").get(0).asInt()).isEqualTo(1502);
    assertThat(json.get("ids").get(json.get("ids").size() - 1).asInt())
        .isEqualTo(10); // "\n" is byte token 10 in the reference vocabulary
  }

  @Test
  void badInputGivesAClearErrorAndUsage() {
    Result missing = tokenize("--text", "x");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err())
        .contains("--model is required")
        .contains("usage: glm engine tokenize");

    Result noFile = tokenize("--model", "/nonexistent.gguf", "--text", "x");
    assertThat(noFile.code()).isEqualTo(2);
    assertThat(noFile.err()).contains("model file not found: /nonexistent.gguf");

    Result badJson = chat("--model", "/nonexistent.gguf", "--messages", "[{\"role\":");
    assertThat(badJson.code()).isEqualTo(2);
    assertThat(badJson.err()).contains("--messages is not valid JSON");

    Result noRole = chat("--model", "/x.gguf", "--messages", "[{\"content\":\"hi\"}]");
    assertThat(noRole.err()).contains("--messages[0] needs a string \"role\"");

    Result unknown = chat("--bogus");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("unknown argument: --bogus");
  }

  @Test
  void notAGgufFileIsAnErrorNotACrash() throws Exception {
    Path junk = Files.createTempFile("not-a-model", ".gguf");
    try {
      Files.writeString(junk, "hello");
      Result r = tokenize("--model", junk.toString(), "--text", "x");
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).startsWith("glm engine tokenize: ");
    } finally {
      Files.delete(junk);
    }
  }
}
