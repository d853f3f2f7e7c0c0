package org.glmmaas.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the launcher watches a child: healthy on a 2xx readiness answer, failed with its log tail
 * otherwise.
 */
class ServiceProcessTest {

  @TempDir Path logs;

  private final ByteArrayOutputStream progress = new ByteArrayOutputStream();
  private final Console console = new Console(new PrintStream(progress, true));

  @Test
  void aChildThatExitsFailsWithItsLogTail() {
    ServiceProcess s =
        new ServiceProcess(
            "auth-service",
            List.of(
                "sh", "-c", "echo 'APPLICATION FAILED TO START'; echo 'port 8081 in use'; exit 3"),
            Map.of(),
            URI.create("http://127.0.0.1:1/actuator/health/readiness"),
            logs);

    assertThatThrownBy(
            () -> {
              s.start();
              s.awaitHealthy(Duration.ofSeconds(30), console);
            })
        .isInstanceOfSatisfying(
            ServiceProcess.ServiceFailedException.class,
            e -> {
              assertThat(e).hasMessage("auth-service exited with status 3 before it was healthy");
              assertThat(e.logTail).contains("APPLICATION FAILED TO START", "port 8081 in use");
            });
    assertThat(logs.resolve("auth-service.log"))
        .content()
        .contains("starting auth-service", "port 8081 in use");
  }

  @Test
  void aChildIsHealthyOnceItsReadinessAnswers2xxAndStopsOnSigterm() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HttpServer http =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    http.createContext(
        "/actuator/health/readiness",
        ex -> {
          int status = calls.incrementAndGet() < 3 ? 503 : 200;
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    http.start();
    try {
      ServiceProcess s =
          new ServiceProcess(
              "gateway",
              List.of("sleep", "60"),
              Map.of("GLM_X", "1"),
              URI.create(
                  "http://127.0.0.1:" + http.getAddress().getPort() + "/actuator/health/readiness"),
              logs);
      s.start();
      s.awaitHealthy(Duration.ofSeconds(30), console);
      assertThat(calls.get()).isGreaterThanOrEqualTo(3);
      assertThat(s.alive()).isTrue();

      s.stop(Duration.ofSeconds(10));
      assertThat(s.alive()).isFalse();
    } finally {
      http.stop(0);
    }
  }

  @Test
  void aChildThatNeverGetsHealthyTimesOut() throws Exception {
    ServiceProcess s =
        new ServiceProcess(
            "inference-worker",
            List.of("sh", "-c", "echo loading model; sleep 60"),
            Map.of(),
            URI.create("http://127.0.0.1:" + Ports.free() + "/actuator/health/readiness"),
            logs);
    s.start();
    try {
      assertThatThrownBy(() -> s.awaitHealthy(Duration.ofSeconds(6), console))
          .isInstanceOfSatisfying(
              ServiceProcess.ServiceFailedException.class,
              e -> {
                assertThat(e).hasMessageContaining("inference-worker not healthy after 6 s");
                assertThat(e.logTail).contains("loading model");
              });
      assertThat(progress.toString())
          .as("a progress line while waiting")
          .contains("inference-worker", "starting... 5 s");
    } finally {
      s.stop(Duration.ofSeconds(5));
    }
  }

  @Test
  void stateFilesArePrivateAndReusedAcrossRuns() throws Exception {
    LauncherState state = new LauncherState(logs);
    LauncherState.Secrets first = state.secrets();
    assertThat(java.util.Base64.getDecoder().decode(first.authMasterKey())).hasSize(32);
    assertThat(new LauncherState(logs).secrets()).isEqualTo(first);
    assertThat(Files.getPosixFilePermissions(logs.resolve("secrets.json")).toString())
        .isEqualTo("[OWNER_READ, OWNER_WRITE]");

    state.saveDemo(new LauncherState.Demo("t1", "k1", "sk-demo"));
    assertThat(new LauncherState(logs).demo())
        .isEqualTo(new LauncherState.Demo("t1", "k1", "sk-demo"));
    state.forgetDemo();
    assertThat(state.demo()).isNull();
  }
}
