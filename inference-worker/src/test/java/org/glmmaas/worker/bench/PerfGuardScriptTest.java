package org.glmmaas.worker.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/perf-guard.sh, the CI performance guard against llama.cpp: only its skip path runs here
 * (the guard itself takes minutes and needs a llama.cpp build; CI calls it separately).
 */
class PerfGuardScriptTest {

  static final Path SCRIPT = Path.of("..", "bench", "perf-guard.sh");

  record Result(int code, String out, String err) {}

  static Result run(String llamaDir) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString());
    pb.environment().remove("LLAMA_CPP_DIR");
    if (llamaDir != null) {
      pb.environment().put("LLAMA_CPP_DIR", llamaDir);
    }
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(
        p.exitValue(),
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void withoutLlamaCppItSkipsWithExitZeroAndSaysWhy() throws Exception {
    assumeTrue(Files.isRegularFile(SCRIPT), "bench/perf-guard.sh is not next to this module");
    Result r = run(null);
    assertThat(r.code()).isZero();
    assertThat(r.out()).isEmpty(); // nothing on stdout: a CI parsing the JSON sees no result
    assertThat(r.err()).contains("perf-guard: skipped: LLAMA_CPP_DIR is not set");
  }

  @Test
  void aLlamaCppDirWithoutTheToolsIsASkipToo(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isRegularFile(SCRIPT), "bench/perf-guard.sh is not next to this module");
    Result r = run(dir.toString());
    assertThat(r.code()).isZero();
    assertThat(r.err()).contains("perf-guard: skipped: no llama-bench under");
  }

  @Test
  void theBaselineHoldsBothRatios() throws Exception {
    Path baseline = Path.of("..", "bench", "perf-guard-baseline.json");
    assumeTrue(Files.isRegularFile(baseline), "bench/ is not next to this module");
    String json = Files.readString(baseline);
    assertThat(json).contains("\"decode_b1_ratio\"").contains("\"serve_16_ratio\"");
  }
}
