package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.glmmaas.worker.gguf.GgufReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class GlmCliTest {

  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        GlmCli.run(
            List.of(args),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void registersTheEngineCommands() {
    assertThat(GlmCli.names()).contains("engine generate", "engine bench", "engine make-model");
    Run r = run("engine");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("engine generate", "engine bench", "engine make-model");
  }

  @Test
  void wiresTheTextBenchAndModelCommandsIncludingOneWordNames() {
    assertThat(GlmCli.names())
        .contains("engine tokenize", "engine chat", "bench serve", "pull", "models");
    Run r = run("engine", "tokenize", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("glm engine tokenize");
    r = run("pull", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("glm pull");
    r = run("models", "--models-dir", dir.toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("no models in");
    r =
        run(
            "engine",
            "chat",
            "--model",
            dir.resolve("missing.gguf").toString(),
            "--messages",
            "[]");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).doesNotContain("\tat ");
  }

  @Test
  void unknownCommandAndOptionsAreUsageErrorsWithoutStackTraces() throws Exception {
    Run r = run("engine", "frobnicate");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("unknown command 'engine frobnicate'");

    r = run("engine", "generate", "--model", "x.gguf", "--bogus", "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("unknown option --bogus").doesNotContain("\tat ");

    r = run("engine", "bench", "--model", dir.resolve("missing.gguf").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("missing.gguf: no such file").doesNotContain("\tat ");

    r = run("engine", "make-model", "--preset", "huge", "--out", dir.resolve("m").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("unknown preset 'huge'");

    Path model = Files.writeString(dir.resolve("x.gguf"), "x");
    r = run("engine", "bench", "--model", model.toString(), "--batch", "1,,4");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--batch has an empty item");
  }

  @Test
  void generateRejectsBadPromptFiles() throws Exception {
    Path model = dir.resolve("m.gguf");
    Files.writeString(model, "not a model");
    Path prompts = dir.resolve("p.json");
    Files.writeString(prompts, "[[1,2],[3,\"x\"]]");
    Run r = run("engine", "generate", "--model", model.toString(), "--prompts", prompts.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("item 1[1] is not a token id");

    r =
        run(
            "engine",
            "generate",
            "--model",
            model.toString(),
            "--prompts",
            prompts.toString(),
            "--prompt-ids",
            "1,2");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("exactly one of --prompt-ids and --prompts");
  }

  @Test
  void makeModelWritesAReadableModelAndReportsJson() throws Exception {
    Path out = dir.resolve("tiny.gguf");
    Run r =
        run(
            "engine",
            "make-model",
            "--arch",
            "chatglm",
            "--preset",
            "tiny",
            "--type",
            "f16",
            "--seed",
            "3",
            "--out",
            out.toString(),
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = EngineGenerateCommand.JSON.readTree(r.out());
    assertThat(j.get("arch").asString()).isEqualTo("chatglm");
    assertThat(j.get("bytes").asLong()).isEqualTo(Files.size(out));
    assertThat(GgufReader.read(out).metadata().string("general.architecture")).contains("chatglm");
  }
}
