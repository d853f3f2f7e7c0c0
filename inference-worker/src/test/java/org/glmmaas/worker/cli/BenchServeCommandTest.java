package org.glmmaas.worker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.worker.api.FakeModelLoader;
import org.glmmaas.worker.api.WorkerGrpcServer;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.scheduler.SchedulerObserver;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class BenchServeCommandTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return BenchServeCommand.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void benchmarksARunningWorkerAndPrintsTheJsonRows() {
    WorkerProperties props =
        new WorkerProperties(
            "w-bench",
            "/models/fake.gguf",
            "",
            "cpu",
            1,
            "",
            Duration.ofSeconds(1),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(16, 512, 1024, 64),
            new WorkerProperties.KvCache(16, DataSize.ofKilobytes(512), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    WorkerRuntime runtime =
        new WorkerRuntime(
            props, new FakeModelLoader(), e -> {}, SchedulerObserver.NONE, Clock.systemUTC());
    WorkerGrpcServer server = new WorkerGrpcServer(runtime);
    server.start();
    runtime.start();
    try {
      int code =
          run(
              "--worker",
              "127.0.0.1:" + server.port(),
              "--concurrency",
              "1,4",
              "--requests",
              "4",
              "--prompt-tokens",
              "27",
              "--gen-tokens",
              "8",
              "--json");
      assertThat(code).as(err.toString()).isZero();
      String json = out.toString(StandardCharsets.UTF_8).trim();
      assertThat(json)
          .startsWith("{\"rows\":[{\"concurrency\":1,\"gen_tok_s\":")
          .contains("{\"concurrency\":4,\"gen_tok_s\":")
          .contains("\"ttft_ms_p50\":")
          .contains("\"ttft_ms_p99\":")
          .contains("\"itl_ms_p50\":")
          .contains("\"itl_ms_p99\":")
          .contains("\"sequential_gen_tok_s\":")
          .endsWith("}");
    } finally {
      runtime.drainAndStop(Duration.ZERO);
      server.close();
    }
  }

  @Test
  void backgroundRequestsRunAtBatchPriorityWhileTheMeasuredOnesDo() {
    WorkerProperties props =
        new WorkerProperties(
            "w-bench-bg",
            "/models/fake.gguf",
            "",
            "cpu",
            1,
            "",
            Duration.ofSeconds(1),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(16, 512, 1024, 64),
            new WorkerProperties.KvCache(16, DataSize.ofKilobytes(512), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    java.util.List<org.glmmaas.proto.billing.v1.UsageEvent> usage =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    WorkerRuntime runtime =
        new WorkerRuntime(
            props, new FakeModelLoader(), usage::add, SchedulerObserver.NONE, Clock.systemUTC());
    WorkerGrpcServer server = new WorkerGrpcServer(runtime);
    server.start();
    runtime.start();
    try {
      int code =
          run(
              "--worker",
              "127.0.0.1:" + server.port(),
              "--concurrency",
              "1",
              "--requests",
              "6",
              "--gen-tokens",
              "8",
              "--background",
              "2",
              "--json");
      assertThat(code).as(err.toString()).isZero();
      assertThat(usage).anyMatch(e -> e.getBatchId().equals("bench-batch"));
      assertThat(usage)
          .filteredOn(e -> e.getRequestId().startsWith("bench-") && e.getBatchId().isEmpty())
          .hasSizeGreaterThanOrEqualTo(6);
    } finally {
      runtime.drainAndStop(Duration.ZERO);
      server.close();
    }
  }

  @Test
  void badOptionsAreUsageErrors() {
    assertThat(run("--concurrency", "1,x", "--worker", "h:1")).isEqualTo(2);
    assertThat(err.toString()).contains("--concurrency needs a whole number");
    assertThat(run("--requests", "5")).isEqualTo(2);
    assertThat(err.toString()).contains("exactly one of --model FILE or --worker HOST:PORT");
    assertThat(run("--model", "/nonexistent.gguf")).isEqualTo(2);
    assertThat(err.toString()).contains("does not exist");
  }

  @Test
  void percentilesAreNearestRank() {
    double[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertThat(BenchServeCommand.pct(v, 50)).isEqualTo(5);
    assertThat(BenchServeCommand.pct(v, 99)).isEqualTo(10);
    assertThat(BenchServeCommand.pct(new double[0], 50)).isZero();
  }

  @Test
  void aGridOfPromptLengthsWithALongPromptAdmittedMidway() {
    WorkerProperties props =
        new WorkerProperties(
            "w-grid",
            "/models/fake.gguf",
            "",
            "cpu",
            1,
            "",
            Duration.ofSeconds(1),
            GrpcServerProperties.onPort(0),
            new WorkerProperties.Scheduler(16, 512, 1024, 64),
            new WorkerProperties.KvCache(16, DataSize.ofKilobytes(512), "f16", true),
            new WorkerProperties.LoadReport(Duration.ofMillis(100)));
    WorkerRuntime runtime =
        new WorkerRuntime(
            props, new FakeModelLoader(), e -> {}, SchedulerObserver.NONE, Clock.systemUTC());
    WorkerGrpcServer server = new WorkerGrpcServer(runtime);
    server.start();
    runtime.start();
    try {
      int code =
          run(
              "--worker",
              "127.0.0.1:" + server.port(),
              "--concurrency",
              "1,3",
              "--requests",
              "2",
              "--prompt-tokens",
              "8,40",
              "--gen-tokens",
              "6",
              "--long-prompt",
              "100",
              "--no-sequential",
              "--json");
      assertThat(code).as(err.toString()).isZero();
      tools.jackson.databind.JsonNode j =
          EngineGenerateCommand.JSON.readTree(out.toString(StandardCharsets.UTF_8));
      tools.jackson.databind.JsonNode rows = j.get("rows");
      // every concurrency level at every prompt length, in that order
      assertThat(rows.size()).isEqualTo(4);
      int[][] expect = {{1, 8}, {3, 8}, {1, 40}, {3, 40}};
      for (int i = 0; i < 4; i++) {
        assertThat(rows.get(i).get("concurrency").asInt()).isEqualTo(expect[i][0]);
        assertThat(rows.get(i).get("prompt_tokens").asInt()).isEqualTo(expect[i][1]);
        assertThat(rows.get(i).get("gen_tok_s").asDouble()).isPositive();
        assertThat(rows.get(i).get("long_prompt_ttft_ms").asDouble()).isPositive();
        assertThat(rows.get(i).has("itl_ms_p99_during_long_prefill")).isTrue();
        // a remote worker: no KV or preemption figures
        assertThat(rows.get(i).has("kv_blocks_peak")).isFalse();
      }
      // the one-stream level at the first prompt length is the sequential figure
      assertThat(j.get("sequential_gen_tok_s").asDouble())
          .isEqualTo(rows.get(0).get("gen_tok_s").asDouble());
    } finally {
      runtime.drainAndStop(Duration.ZERO);
      server.close();
    }
  }
}
