package org.glmmaas.launcher;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One service as a child process, its output appended to {@code <data>/logs/<name>.log}. */
final class ServiceProcess {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String name;
  final Path log;
  private final List<String> command;
  private final Map<String, String> env;
  private final URI health;
  private Process process;

  ServiceProcess(
      String name, List<String> command, Map<String, String> env, URI health, Path logDir) {
    this.name = name;
    this.command = List.copyOf(command);
    this.env = Map.copyOf(env);
    this.health = health;
    this.log = logDir.resolve(name + ".log");
  }

  void start() throws IOException {
    Files.createDirectories(log.getParent());
    Files.writeString(
        log,
        "==== " + java.time.Instant.now() + " starting " + name + "\n",
        StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    process = pb.start();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** True when the readiness URL answers 2xx right now. */
  boolean healthy() {
    try {
      HttpResponse<Void> r =
          HTTP.send(
              HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(3)).GET().build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() / 100 == 2;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Waits until the service is healthy, printing a progress line every 5 seconds. Fails with the
   * log's tail when the process exits or the timeout passes.
   */
  void awaitHealthy(Duration timeout, Console console) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    long nextReport = start + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      if (!alive()) {
        throw new ServiceFailedException(
            name, "exited with status " + process.exitValue() + " before it was healthy", tail(40));
      }
      if (healthy()) {
        return;
      }
      long now = System.nanoTime();
      if (now > deadline) {
        throw new ServiceFailedException(
            name, "not healthy after " + timeout.toSeconds() + " s (" + health + ")", tail(40));
      }
      if (now > nextReport) {
        console.step(name, "starting... " + (now - start) / 1_000_000_000 + " s, log " + log);
        nextReport = now + TimeUnit.SECONDS.toNanos(5);
      }
      Thread.sleep(250);
    }
  }

  /** SIGTERM (the services drain on it), then SIGKILL after the grace period. */
  void stop(Duration grace) throws InterruptedException {
    requestStop();
    awaitStop(System.nanoTime() + grace.toNanos());
  }

  /** SIGTERM to the service (and anything it started); returns at once. */
  void requestStop() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
  }

  /** Waits until {@code deadlineNanos} ({@link System#nanoTime}) for the exit, then SIGKILL. */
  void awaitStop(long deadlineNanos) throws InterruptedException {
    if (process == null) {
      return;
    }
    long left = deadlineNanos - System.nanoTime();
    if (!process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
  }

  int exitValue() {
    return process.exitValue();
  }

  /** The last {@code lines} lines of the log (at most 64 KiB are read). */
  String tail(int lines) {
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      long len = f.length();
      long from = Math.max(0, len - 65536);
      byte[] buf = new byte[(int) (len - from)];
      f.seek(from);
      f.readFully(buf);
      List<String> all = new String(buf, StandardCharsets.UTF_8).lines().toList();
      return String.join(
          "\n", new ArrayList<>(all.subList(Math.max(0, all.size() - lines), all.size())));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** A service that did not come up; carries its log tail for the user. */
  static final class ServiceFailedException extends RuntimeException {
    final String logTail;

    ServiceFailedException(String service, String why, String logTail) {
      super(service + " " + why);
      this.logTail = logTail;
    }
  }
}
