package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code glm bench serve --json} as the glm script runs it (its own JVM, {@code GlmCli.main}):
 * stdout is one JSON document and nothing else; the in-process worker's log lines go to stderr.
 * Before, Logback's default configuration printed them on stdout ahead of the JSON.
 */
class CliJsonStdoutTest {

  @TempDir Path dir;

  @Test
  void benchServeJsonPrintsOnlyJsonOnStdout() throws Exception {
    assumeTrue(NativeGlmEngine.isAvailable(), NativeGlmEngine::unavailableReason);
    Path model = dir.resolve("tiny.gguf");
    GlmCliTest.Run made =
        GlmCliTest.run(
            "engine",
            "make-model",
            "--preset",
            "tiny",
            "--type",
            "q8_0",
            "--out",
            model.toString());
    assertThat(made.code()).as(made.err()).isZero();

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            GlmCli.class.getName(),
            "bench",
            "serve",
            "--model",
            model.toString(),
            "--concurrency",
            "1",
            "--requests",
            "1",
            "--prompt-tokens",
            "4",
            "--gen-tokens",
            "2",
            "--json"));
    Process p = new ProcessBuilder(cmd).start();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread errReader = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    errReader.join(5000);
    assertThat(p.exitValue()).as("stderr: %s", err).isZero();

    JsonNode json = JsonMapper.builder().build().readTree(stdout);
    assertThat(json.get("rows")).as("stdout: %s", stdout).isNotNull();
    assertThat(stdout.strip())
        .as("stdout is the JSON document alone")
        .startsWith("{")
        .endsWith("}")
        .hasLineCount(1);
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try {
      in.transferTo(out);
    } catch (java.io.IOException e) {
      // the process ended
    }
  }
}
