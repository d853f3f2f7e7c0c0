package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.glmmaas.worker.cli.GlmCliTest.Run;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * {@code glm engine embed --json} as the reference README's suggested check runs it: the golden's
 * texts in, token ids and vectors out, only JSON on stdout.
 */
class EngineEmbedCommandTest {

  @TempDir Path dir;

  static Path reference2() {
    String shared = System.getProperty("glm.shared.dir");
    assumeTrue(shared != null && Files.isDirectory(Path.of(shared, "reference2/golden")));
    assumeTrue(NativeGlmEngine.isAvailable(), NativeGlmEngine::unavailableReason);
    return Path.of(shared, "reference2");
  }

  @Test
  void embedsTheGoldenInputsInOrder() throws Exception {
    Path ref = reference2();
    JsonNode golden =
        EngineEmbedCommand.JSON.readTree(
            ref.resolve("golden/tiny-bert-f32.inputs-A.json").toFile());
    ArrayNode texts = EngineEmbedCommand.JSON.createArrayNode();
    golden.get("inputs").forEach(in -> texts.add(in.get("text").asString()));
    Path inputs = dir.resolve("inputs.json");
    Files.writeString(inputs, texts.toString());

    Run r =
        GlmCliTest.run(
            "engine",
            "embed",
            "--model",
            ref.resolve("models/tiny-bert-f32.gguf").toString(),
            "--inputs",
            inputs.toString(),
            "--threads",
            "2",
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode out = EngineEmbedCommand.JSON.readTree(r.out());
    assertThat(out.size()).isEqualTo(texts.size());
    for (int i = 0; i < out.size(); i++) {
      JsonNode want = golden.get("inputs").get(i);
      JsonNode got = out.get(i);
      assertThat(got.get("token_ids").toString()).isEqualTo(want.get("token_ids").toString());
      double norm = 0;
      for (int d = 0; d < got.get("embedding").size(); d++) {
        double v = got.get("embedding").get(d).asDouble();
        norm += v * v;
        assertThat(Math.abs(v - want.get("embedding_norm2").get(d).asDouble()))
            .isLessThanOrEqualTo(1e-4);
        assertThat(
                Math.abs(
                    got.get("embedding_raw").get(d).asDouble()
                        - want.get("embedding_raw").get(d).asDouble()))
            .isLessThanOrEqualTo(2e-3);
      }
      assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void aTooLongInputIsAnErrorNamingIt() throws Exception {
    Path ref = reference2();
    Path inputs = dir.resolve("inputs.json");
    Files.writeString(inputs, "[\"short\", \"" + "a ".repeat(600) + "\"]");
    Run r =
        GlmCliTest.run(
            "engine",
            "embed",
            "--model",
            ref.resolve("models/tiny-bert-f32.gguf").toString(),
            "--inputs",
            inputs.toString(),
            "--json");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("input 1 has 602 tokens").contains("at most 512");
  }

  @Test
  void aChatModelIsRefused() throws Exception {
    Path ref = reference2();
    Path inputs = dir.resolve("inputs.json");
    Files.writeString(inputs, "[\"hello\"]");
    Run r =
        GlmCliTest.run(
            "engine",
            "embed",
            "--model",
            ref.resolveSibling("reference/models/tiny-glm4-f32.gguf").toString(),
            "--inputs",
            inputs.toString(),
            "--json");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("not an embedding model");
  }
}
