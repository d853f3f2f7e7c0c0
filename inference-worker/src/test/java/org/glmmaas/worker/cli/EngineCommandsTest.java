package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.glmmaas.worker.cli.GlmCliTest.Run;
import org.glmmaas.worker.engine.ffm.NativeGlmEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code glm engine generate} and {@code bench} end to end over a made model. */
class EngineCommandsTest {

  @TempDir static Path dir;

  static Path model;

  @BeforeAll
  static void makeModel() {
    assumeTrue(NativeGlmEngine.isAvailable(), NativeGlmEngine::unavailableReason);
    model = dir.resolve("tiny.gguf");
    Run r =
        GlmCliTest.run(
            "engine",
            "make-model",
            "--preset",
            "tiny",
            "--type",
            "q8_0",
            "--out",
            model.toString());
    assertThat(r.code()).as(r.err()).isZero();
  }

  @Test
  void generatePrintsTheDocumentedJson() throws Exception {
    Run r =
        GlmCliTest.run(
            "engine",
            "generate",
            "--model",
            model.toString(),
            "--prompt-ids",
            "1502,1504,1507,10,72",
            "--max-tokens",
            "6",
            "--top",
            "4",
            "--threads",
            "1",
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = EngineGenerateCommand.JSON.readTree(r.out());
    assertThat(j.get("prompt_ids").toString()).isEqualTo("[1502,1504,1507,10,72]");
    assertThat(j.get("greedy_ids").size()).isEqualTo(6);
    assertThat(j.get("top").size()).isEqualTo(4);
    assertThat(j.get("top").get(0).get(0).asInt()).isEqualTo(j.get("greedy_ids").get(0).asInt());
    assertThat(j.get("top").get(0).get(1).asDouble())
        .isGreaterThanOrEqualTo(j.get("top").get(1).get(1).asDouble());

    // the same prompt inside a --prompts batch gives the same answer
    Path prompts = Files.writeString(dir.resolve("p.json"), "[[7,8,9],[1502,1504,1507,10,72]]");
    Run b =
        GlmCliTest.run(
            "engine",
            "generate",
            "--model",
            model.toString(),
            "--prompts",
            prompts.toString(),
            "--max-tokens",
            "6",
            "--top",
            "4",
            "--json");
    assertThat(b.code()).as(b.err()).isZero();
    JsonNode arr = EngineGenerateCommand.JSON.readTree(b.out());
    assertThat(arr.size()).isEqualTo(2);
    assertThat(arr.get(1)).isEqualTo(j);
  }

  @Test
  void generateReportsBadTokenIdsAndBadModelsAsOneLine() throws Exception {
    Run r =
        GlmCliTest.run(
            "engine", "generate", "--model", model.toString(), "--prompt-ids", "1,2,99999");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("token id 99999 is outside the vocabulary")
        .doesNotContain("\tat ");
    Path junk = Files.writeString(dir.resolve("junk.gguf"), "GGUF but not really");
    r = GlmCliTest.run("engine", "generate", "--model", junk.toString(), "--prompt-ids", "1");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("failed").doesNotContain("\tat ");
  }

  /**
   * {@code glm engine bench} on the test model: 1 thread, 8-token prompt, 2 tokens, 1 rep, 4 MiB
   * triad.
   */
  private Run smallBench(String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "engine",
                "bench",
                "--model",
                model.toString(),
                "--threads",
                "1",
                "--prompt",
                "8",
                "--gen",
                "2",
                "--reps",
                "1",
                "--triad-mib",
                "4"));
    args.addAll(List.of(more));
    return GlmCliTest.run(args.toArray(String[]::new));
  }

  @Test
  void benchPrintsTheDocumentedJson() throws Exception {
    Run r = smallBench("--batch", "1,2", "--paired", "5", "--profile", "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = EngineGenerateCommand.JSON.readTree(r.out());
    assertThat(j.get("prefill_tok_s").asDouble()).isPositive();
    assertThat(j.get("decode").size()).isEqualTo(2);
    assertThat(j.get("decode").get(1).get("batch").asInt()).isEqualTo(2);
    assertThat(j.get("decode").get(1).get("tok_s").asDouble()).isPositive();

    // the bound: the triad's bandwidth over the weights one token streams (token_embd excluded)
    double bw = j.get("bandwidth_gb_s").asDouble();
    long perToken = j.get("weight_bytes_per_token").asLong();
    assertThat(bw).isPositive();
    assertThat(perToken).isPositive().isLessThan(Files.size(model));
    assertThat(j.get("batch1_bound_tok_s").asDouble())
        .isCloseTo(bw * 1e9 / perToken, org.assertj.core.data.Percentage.withPercentage(1));
    JsonNode b1 = j.get("decode").get(0);
    assertThat(b1.get("fraction_of_bound").asDouble())
        .isCloseTo(
            b1.get("tok_s").asDouble() / j.get("batch1_bound_tok_s").asDouble(),
            org.assertj.core.data.Offset.offset(0.01));
    assertThat(j.get("decode").get(1).has("fraction_of_bound")).isFalse();

    // the profile: every phase, bytes summing to the per-token figure, time where work was done
    JsonNode prof = j.get("profile");
    assertThat(prof.size()).isEqualTo(NativeGlmEngine.PROFILE_PHASES.size() + 1);
    long sum = 0;
    for (int i = 0; i < NativeGlmEngine.PROFILE_PHASES.size(); i++) {
      assertThat(prof.get(i).get("phase").asString())
          .isEqualTo(NativeGlmEngine.PROFILE_PHASES.get(i));
      sum += prof.get(i).get("bytes").asLong();
    }
    assertThat(sum).isEqualTo(perToken);
    JsonNode total = prof.get(prof.size() - 1);
    assertThat(total.get("phase").asString()).isEqualTo("total");
    assertThat(total.get("ms_per_token").asDouble()).isPositive();
    assertThat(prof.get(DecodeBytes.FFN_UP).get("ms_per_token").asDouble()).isPositive();
    assertThat(prof.get(DecodeBytes.OUTPUT).get("ms_per_token").asDouble()).isPositive();

    // --paired: 5 steps between triad passes, the median fraction inside its quartiles
    JsonNode p = j.get("paired");
    assertThat(p.get("steps").asInt()).isEqualTo(5);
    assertThat(p.get("bandwidth_gb_s").asDouble()).isPositive();
    double f = p.get("fraction").asDouble();
    assertThat(f).isPositive().isBetween(p.get("q1").asDouble(), p.get("q3").asDouble());
    assertThat(p.get("fraction_vs_faster").asDouble()).isPositive();
  }

  @Test
  void pairedPrintsItsLineInTextMode() throws Exception {
    Run r = smallBench("--batch", "1", "--paired", "3");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .containsPattern(
            "paired \\(3 batch-1 steps, each between two triad passes\\): median local"
                + " bandwidth [0-9.]+ GB/s; fraction median [0-9.]+ %");
  }

  @Test
  void pairedNeedsTheTriad() throws Exception {
    Run r =
        GlmCliTest.run(
            "engine", "bench", "--model", model.toString(), "--triad-mib", "0", "--paired", "4");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--paired needs the triad");
  }
}
