package org.glmmaas.worker.cli;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.platform.grpc.GrpcServerProperties;
import org.glmmaas.platform.identity.ServiceIdentity;
import org.glmmaas.platform.identity.ServiceIdentityClientInterceptor;
import org.glmmaas.proto.inference.v1.FinishReason;
import org.glmmaas.proto.inference.v1.GenerateRequest;
import org.glmmaas.proto.inference.v1.GenerateResponse;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.ResponseFormat;
import org.glmmaas.proto.inference.v1.SamplingParams;
import org.glmmaas.proto.inference.v1.TokenIds;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.glmmaas.worker.api.WorkerGrpcServer;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.lifecycle.NativeModelLoader;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.scheduler.SchedulerObserver;
import org.springframework.util.unit.DataSize;

/**
 * {@code glm bench serve}: load-tests a worker over gRPC. Starts one in-process on the model file
 * ({@code --model}) or targets a running one ({@code --worker host:port}); for each concurrency
 * level sends {@code --requests} greedy requests of random prompts (fresh ones per level, so the
 * prefix cache cannot help), keeping that many in flight, with ignore_eos so each generates exactly
 * {@code --gen-tokens}. Reports aggregate generated tok/s, TTFT and inter-token latency
 * percentiles, and the same requests served one after another. With {@code --json-schema} every
 * request carries that response_format (constrained decoding); a request may then end early when
 * its JSON is complete, and throughput counts the tokens actually generated.
 */
public final class BenchServeCommand {

  private BenchServeCommand() {}

  static final String USAGE =
      """
      Usage: glm bench serve (--model FILE | --worker HOST:PORT) [options]
        --model FILE            start a worker in-process on this GGUF file
        --worker HOST:PORT      target a running worker instead
        --concurrency LIST      requests in flight, comma-separated (default 1,4,16)
        --requests N            requests per concurrency level (default 16)
        --prompt-tokens N       prompt length, tokens (default 27)
        --gen-tokens N          generated tokens per request (default 64)
        --threads N             engine threads of the in-process worker (default: all cores)
        --kv-memory SIZE        KV budget of the in-process worker (default 512MB)
        --background N          N more requests in flight all along, at batch priority (10),
                                as batch lines run: the measured requests are interactive (0)
        --json-schema SCHEMA    response_format json_schema on every request: inline JSON
                                or a file; requests may end early when the JSON is done
        --json                  print one JSON object
      """;

  /** One request's measurements. */
  record Sample(double ttftMs, List<Double> itlMs, int numTokens) {}

  /** One concurrency level's figures. */
  record Row(
      int concurrency,
      double genTokS,
      double ttftP50,
      double ttftP99,
      double itlP50,
      double itlP99) {}

  /**
   * Runs without the {@code glm} dispatcher: {@code java ... BenchServeCommand --model FILE ...}.
   */
  public static void main(String[] args) {
    CliLogging.toStderr();
    int code = run(args, System.out, System.err);
    System.out.flush();
    System.exit(code);
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      return runChecked(args, out, err);
    } catch (IllegalArgumentException e) {
      err.println("glm bench serve: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (Exception e) {
      err.println("glm bench serve: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    }
  }

  private static int runChecked(String[] args, PrintStream out, PrintStream err) throws Exception {
    String model = null;
    String worker = null;
    int[] concurrency = {1, 4, 16};
    int requests = 16;
    int promptTokens = 27;
    int genTokens = 64;
    int threads = 0;
    DataSize kvMemory = DataSize.ofMegabytes(512);
    boolean json = false;
    int background = 0;
    ResponseFormat format = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--model" -> model = value(args, ++i, a);
        case "--worker" -> worker = value(args, ++i, a);
        case "--concurrency" ->
            concurrency =
                Arrays.stream(value(args, ++i, a).split(","))
                    .mapToInt(s -> positive(s.trim(), a))
                    .toArray();
        case "--requests" -> requests = positive(value(args, ++i, a), a);
        case "--prompt-tokens" -> promptTokens = positive(value(args, ++i, a), a);
        case "--gen-tokens" -> genTokens = positive(value(args, ++i, a), a);
        case "--threads" -> threads = positive(value(args, ++i, a), a);
        case "--kv-memory" -> kvMemory = DataSize.parse(value(args, ++i, a));
        case "--json" -> json = true;
        case "--background" -> background = Integer.parseInt(value(args, ++i, a));
        case "--json-schema" -> format = schemaFormat(value(args, ++i, a));
        case "--help", "-h" -> {
          out.print(USAGE);
          return 0;
        }
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if ((model == null) == (worker == null)) {
      throw new IllegalArgumentException("give exactly one of --model FILE or --worker HOST:PORT");
    }
    if (model != null && !Files.isReadable(Path.of(model))) {
      throw new IllegalArgumentException(
          "model file " + model + " does not exist or is not readable");
    }
    int maxConcurrency = Arrays.stream(concurrency).max().orElse(1);

    WorkerRuntime runtime = null;
    WorkerGrpcServer server = null;
    String target = worker;
    if (model != null) {
      WorkerProperties props =
          new WorkerProperties(
              "bench",
              model,
              "",
              "cpu",
              threads,
              "",
              Duration.ofSeconds(5),
              GrpcServerProperties.onPort(0),
              new WorkerProperties.Scheduler(Math.max(16, maxConcurrency), 512, 0, 1024),
              new WorkerProperties.KvCache(16, kvMemory, "f16", true),
              new WorkerProperties.LoadReport(Duration.ofMillis(250)));
      runtime =
          new WorkerRuntime(
              props, new NativeModelLoader(), e -> {}, SchedulerObserver.NONE, Clock.systemUTC());
      server = new WorkerGrpcServer(runtime);
      server.start();
      runtime.start();
      if (!runtime.isReady()) {
        throw new IllegalStateException("the worker did not start: " + runtime.failure());
      }
      target = "127.0.0.1:" + server.port();
    }
    // a remote worker checks the deployment's service identity: GLM_SERVICEIDENTITY_SECRET
    ServiceIdentity identity =
        worker == null ? null : ServiceIdentity.fromEnvironment(System.getenv(), "bench");
    ManagedChannel channel =
        Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
            .intercept(ServiceIdentityClientInterceptor.of(identity))
            .build();
    try {
      var stub = InferenceServiceGrpc.newBlockingStub(channel);
      WorkerInfo info = stub.getInfo(GetInfoRequest.getDefaultInstance());
      if (info.getState() != WorkerState.READY) {
        throw new IllegalStateException(
            "worker " + target + " is " + info.getState() + ", not READY");
      }
      int vocab = info.getModel().getVocabSize();
      String modelId = info.getModel().getId();
      // warm-up: one request, not measured
      runLevel(
          channel, modelId, vocab, 1, 1, promptTokens, Math.min(genTokens, 8), 999_999, format);
      java.util.concurrent.atomic.AtomicBoolean stop =
          new java.util.concurrent.atomic.AtomicBoolean();
      List<Thread> batch = new ArrayList<>();
      for (int bgi = 0; bgi < background; bgi++) {
        int stream = bgi;
        int p = promptTokens;
        int g = genTokens;
        batch.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      var bs = InferenceServiceGrpc.newBlockingStub(channel);
                      for (int n = 0; !stop.get(); n++) {
                        SplittableRandom rnd =
                            new SplittableRandom(5_000_000L + stream * 10_000L + n);
                        TokenIds.Builder ids = TokenIds.newBuilder();
                        for (int t = 0; t < p; t++) {
                          ids.addIds(rnd.nextInt(Math.max(1, Math.min(vocab, 30_000))));
                        }
                        one(
                            bs.withDeadlineAfter(10, TimeUnit.MINUTES),
                            GenerateRequest.newBuilder()
                                .setRequestId("bench-batch-" + stream + "-" + n)
                                .setModel(modelId)
                                .setTokenIds(ids)
                                .setTenantId("bench-batch")
                                .setPriority(10)
                                .setBatchId("bench-batch")
                                .setSampling(
                                    SamplingParams.newBuilder()
                                        .setTemperature(0f)
                                        .setMaxTokens(g)
                                        .setIgnoreEos(true))
                                .build(),
                            false);
                      }
                    }));
      }
      List<Row> rows = new ArrayList<>();
      Double sequential = null;
      for (int level = 0; level < concurrency.length; level++) {
        int c = concurrency[level];
        Row row =
            runLevel(
                channel,
                modelId,
                vocab,
                c,
                requests,
                promptTokens,
                genTokens,
                level * 100_000,
                format);
        rows.add(row);
        if (c == 1) {
          sequential = row.genTokS();
        }
        if (!json) {
          err.printf(Locale.ROOT, "concurrency %d done: %.1f tok/s%n", c, row.genTokS());
        }
      }
      if (sequential == null) {
        sequential =
            runLevel(channel, modelId, vocab, 1, requests, promptTokens, genTokens, 900_000, format)
                .genTokS();
      }
      stop.set(true);
      for (Thread t : batch) {
        t.join();
      }
      print(out, json, rows, sequential, info, requests, promptTokens, genTokens);
      return 0;
    } finally {
      channel.shutdownNow();
      if (runtime != null) {
        runtime.drainAndStop(Duration.ZERO);
      }
      if (server != null) {
        server.close();
      }
    }
  }

  private static Row runLevel(
      ManagedChannel channel,
      String modelId,
      int vocab,
      int concurrency,
      int numRequests,
      int promptTokens,
      int genTokens,
      long seedBase,
      ResponseFormat format)
      throws Exception {
    ConcurrentLinkedQueue<GenerateRequest> queue = new ConcurrentLinkedQueue<>();
    for (int i = 0; i < numRequests; i++) {
      SplittableRandom rnd = new SplittableRandom(seedBase + i);
      TokenIds.Builder ids = TokenIds.newBuilder();
      for (int t = 0; t < promptTokens; t++) {
        ids.addIds(rnd.nextInt(Math.max(1, Math.min(vocab, 30_000))));
      }
      GenerateRequest.Builder b =
          GenerateRequest.newBuilder()
              .setRequestId("bench-" + seedBase + "-" + i)
              .setModel(modelId)
              .setTokenIds(ids)
              .setReturnTokenIds(true)
              .setTenantId("bench")
              .setSampling(
                  SamplingParams.newBuilder()
                      .setTemperature(0f)
                      .setMaxTokens(genTokens)
                      .setIgnoreEos(true));
      if (format != null) {
        b.setResponseFormat(format);
      }
      queue.add(b.build());
    }
    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    AtomicInteger failures = new AtomicInteger();
    var stub = InferenceServiceGrpc.newBlockingStub(channel);
    long t0 = System.nanoTime();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < concurrency; w++) {
        futures.add(
            pool.submit(
                () -> {
                  GenerateRequest r;
                  while ((r = queue.poll()) != null) {
                    Sample s = one(stub.withDeadlineAfter(10, TimeUnit.MINUTES), r, format != null);
                    if (s == null) {
                      failures.incrementAndGet();
                    } else {
                      samples.add(s);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    }
    double wallS = (System.nanoTime() - t0) / 1e9;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " requests did not finish normally");
    }
    int tokens = samples.stream().mapToInt(Sample::numTokens).sum();
    double[] ttft = samples.stream().mapToDouble(Sample::ttftMs).sorted().toArray();
    double[] itl =
        samples.stream()
            .flatMap(s -> s.itlMs().stream())
            .mapToDouble(Double::doubleValue)
            .sorted()
            .toArray();
    return new Row(
        concurrency, tokens / wallS, pct(ttft, 50), pct(ttft, 99), pct(itl, 50), pct(itl, 99));
  }

  /** A response_format json_schema from inline JSON or a file. */
  static ResponseFormat schemaFormat(String value) {
    String schema;
    if (value.strip().startsWith("{")) {
      schema = value;
    } else {
      try {
        schema = Files.readString(Path.of(value));
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--json-schema: cannot read " + value + ": " + e);
      }
    }
    return ResponseFormat.newBuilder()
        .setType(ResponseFormat.Type.JSON_SCHEMA)
        .setName("bench")
        .setSchemaJson(schema)
        .build();
  }

  /**
   * @param constrained a response_format is set: a STOP (the JSON is complete) ends it normally
   */
  private static Sample one(
      InferenceServiceGrpc.InferenceServiceBlockingStub stub,
      GenerateRequest r,
      boolean constrained) {
    long start = System.nanoTime();
    long last = -1;
    double ttft = -1;
    List<Double> itl = new ArrayList<>();
    int n = 0;
    Iterator<GenerateResponse> it = stub.generate(r);
    while (it.hasNext()) {
      GenerateResponse m = it.next();
      long now = System.nanoTime();
      if (m.hasDelta() && m.getDelta().getTokenIdsCount() > 0) {
        if (last < 0) {
          ttft = (now - start) / 1e6;
        } else {
          itl.add((now - last) / 1e6);
        }
        last = now;
        n += m.getDelta().getTokenIdsCount();
      } else if (m.hasFinished()
          && m.getFinished().getFinishReason() != FinishReason.LENGTH
          && !(constrained && m.getFinished().getFinishReason() == FinishReason.STOP)) {
        return null;
      }
    }
    return new Sample(ttft, itl, n);
  }

  static double pct(double[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.clamp(idx, 0, sorted.length - 1)];
  }

  private static void print(
      PrintStream out,
      boolean json,
      List<Row> rows,
      double sequential,
      WorkerInfo info,
      int requests,
      int promptTokens,
      int genTokens) {
    if (json) {
      StringBuilder sb = new StringBuilder("{\"rows\":[");
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        sb.append(i == 0 ? "" : ",")
            .append(
                String.format(
                    Locale.ROOT,
                    "{\"concurrency\":%d,\"gen_tok_s\":%.2f,\"ttft_ms_p50\":%.2f,\"ttft_ms_p99\":%.2f,\"itl_ms_p50\":%.2f,\"itl_ms_p99\":%.2f}",
                    r.concurrency(),
                    r.genTokS(),
                    r.ttftP50(),
                    r.ttftP99(),
                    r.itlP50(),
                    r.itlP99()));
      }
      sb.append(String.format(Locale.ROOT, "],\"sequential_gen_tok_s\":%.2f}", sequential));
      out.println(sb);
      return;
    }
    out.printf(
        Locale.ROOT,
        "model %s (%s, %s) on %s, worker %s: %d requests x (%d prompt + %d generated) tokens%n",
        info.getModel().getId(),
        info.getModel().getArchitecture(),
        info.getModel().getQuantization(),
        info.getDevice(),
        info.getWorkerId(),
        requests,
        promptTokens,
        genTokens);
    out.printf(
        Locale.ROOT,
        "%11s %10s %10s %10s %9s %9s%n",
        "concurrency",
        "gen tok/s",
        "TTFT p50",
        "TTFT p99",
        "ITL p50",
        "ITL p99");
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          "%11d %10.1f %8.1fms %8.1fms %7.1fms %7.1fms%n",
          r.concurrency(),
          r.genTokS(),
          r.ttftP50(),
          r.ttftP99(),
          r.itlP50(),
          r.itlP99());
    }
    out.printf(Locale.ROOT, "sequential (one after another): %.1f gen tok/s%n", sequential);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static int positive(String s, String option) {
    try {
      int v = Integer.parseInt(s);
      if (v < 1) {
        throw new IllegalArgumentException(option + " must be >= 1, got " + s);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a whole number, got '" + s + "'");
    }
  }
}
