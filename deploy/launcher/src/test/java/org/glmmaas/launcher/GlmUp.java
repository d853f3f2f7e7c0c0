package org.glmmaas.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One real {@code ./glm up --data <folder> --ephemeral-ports} for the end-to-end tests: its output
 * collected (and echoed with a {@code [glm up]} prefix), READY awaited through endpoints.json, and
 * stopped with SIGTERM. The one driver the launcher tests share.
 */
final class GlmUp implements AutoCloseable {

  /** First start generates the demo models and creates PostgreSQL: minutes on a loaded machine. */
  static final Duration READY_TIMEOUT = Duration.ofMinutes(12);

  final Process process;
  private final Path data;
  private final StringBuffer out = new StringBuffer();
  private final Thread reader;

  private GlmUp(Process process, Path data) {
    this.process = process;
    this.data = data;
    this.reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (BufferedReader r =
                      new BufferedReader(
                          new InputStreamReader(
                              process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                      out.append(line).append('\n');
                      System.out.println("[glm up] " + line);
                    }
                  } catch (IOException e) {
                    // process ended
                  }
                });
  }

  /** Starts {@code ./glm up} of the checkout ({@code -Dglm.home}, default ../..) on the folder. */
  static GlmUp start(Path data) throws IOException {
    Path home = Path.of(System.getProperty("glm.home", "../.."));
    return new GlmUp(
        new ProcessBuilder(
                home.resolve("glm").toString(),
                "up",
                "--data",
                data.toString(),
                "--ephemeral-ports")
            .redirectErrorStream(true)
            .start(),
        data);
  }

  /** The endpoints.json of a READY platform; fails with the output if it exits or times out. */
  Map<?, ?> awaitReady() throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    Path endpoints = data.resolve("endpoints.json");
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "./glm up exited with " + process.exitValue() + " before READY:\n" + out);
      }
      if (Files.isRegularFile(endpoints) && out.toString().contains("GLM MaaS is READY")) {
        return LauncherState.JSON.readValue(endpoints.toFile(), Map.class);
      }
      Thread.sleep(250);
    }
    throw new AssertionError("./glm up not READY within " + READY_TIMEOUT + ":\n" + out);
  }

  String output() {
    return out.toString();
  }

  int exitValue() {
    return process.exitValue();
  }

  /**
   * SIGTERM, then waits up to {@code grace}; a launcher still running then is killed and the call
   * fails (stopping in order within the grace is part of what the tests check).
   */
  void stop(Duration grace) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("./glm up did not stop within " + grace + " of SIGTERM:\n" + out);
    }
    reader.join(5000);
  }

  /** Best-effort stop for cleanup paths: SIGTERM, SIGKILL after {@code grace}; never fails. */
  void kill(Duration grace) throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
      }
    }
    reader.join(5000);
  }

  @Override
  public void close() throws InterruptedException {
    kill(Duration.ofSeconds(90));
  }
}
