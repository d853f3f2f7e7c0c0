package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The side-by-side serving run (bench/perf-guard.sh) compares this engine and llama-server on the
 * same prompts only if bench/serve_load.py draws the ids that {@code glm bench serve} sends.
 */
class ServeLoadPromptsTest {

  static final Path SCRIPT = Path.of("..", "bench", "serve_load.py");

  static boolean python3() {
    try {
      Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void serveLoadSendsTheIdsBenchServeSends() throws Exception {
    assumeTrue(Files.isRegularFile(SCRIPT), "bench/serve_load.py is not next to this module");
    assumeTrue(python3(), "python3 is not installed");
    // request 0 and 15 of the first level (seeds 0 and 15), the warm-up (999999), a small vocab
    String code =
        "import sys; sys.path.insert(0, sys.argv[1]); import serve_load as s\n"
            + "for seed, n, v in ((0, 27, 32768), (15, 27, 32768), (999999, 8, 32768), (7, 50, 1000)):\n"
            + "    print(','.join(map(str, s.java_prompt(seed, n, v))))\n";
    Process p =
        new ProcessBuilder("python3", "-c", code, SCRIPT.getParent().toString())
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String[] lines =
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split("\n");
    assertThat(p.exitValue()).isZero();
    long[][] cases = {{0, 27, 32768}, {15, 27, 32768}, {999_999, 8, 32768}, {7, 50, 1000}};
    assertThat(lines).hasSize(cases.length);
    for (int i = 0; i < cases.length; i++) {
      String expected =
          String.join(
              ",",
              BenchServeCommand.promptIds(cases[i][0], (int) cases[i][1], (int) cases[i][2])
                  .stream()
                  .map(String::valueOf)
                  .toList());
      assertThat(lines[i]).as("seed %d", cases[i][0]).isEqualTo(expected);
    }
  }
}
