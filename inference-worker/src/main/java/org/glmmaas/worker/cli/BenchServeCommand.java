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
 *
 * <p>{@code --prompt-tokens} takes a list: the levels then run for every prompt length (a scaling
 * grid). A level sends max(--requests, concurrency) requests so that every stream has one. With an
 * in-process worker each row also says the most KV blocks in use at once and the preemptions of the
 * level. {@code --long-prompt N} admits one request with an N-token prompt once the level's streams
 * decode, and reports its TTFT and the ITL p99 of the running streams while it was prefilled
 * (chunked prefill keeps that bounded by one step of max-num-batched-tokens).
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
        --prompt-tokens LIST    prompt lengths, tokens, comma-separated (default 27);
                                each concurrency level runs at each length
        --long-prompt N         per level, admit one N-token prompt while the streams
                                decode; report its TTFT and the streams' ITL p99 meanwhile
        --gen-tokens N          generated tokens per request (default 64)
        --threads N             engine threads of the in-process worker (default: all cores)
        --kv-memory SIZE        KV budget of the in-process worker (default 512MB)
        --background N          N more requests in flight all along, at batch priority (10),
                                as batch lines run: the measured requests are interactive (0)
        --max-batch-tokens N    the in-process worker's max-num-batched-tokens: the
                                prefill chunk of one step (default 512)
        --json-schema SCHEMA    response_format json_schema on every request: inline JSON
                                or a file; requests may end early when the JSON is done
        --no-sequential         skip the one-after-another run when no level is 1
        --json                  print one JSON object
      """;

  /**
   * One request's measurements.
   *
   * @param itlMs inter-token latencies, ms
   * @param itlAtNanos System.nanoTime() when each of them ended
   */
  record Sample(
      double ttftMs, List<Double> itlMs, List<Long> itlAtNanos, int numTokens, long firstNanos) {}

  /**
   * One concurrency level's figures; kvBlocksPeak, kvBlocksTotal and preemptions are -1 against a
   * remote worker, the long-prompt figures -1 without --long-prompt.
   */
  record Row(
      int concurrency,
      int promptTokens,
      double genTokS,
      double ttftP50,
      double ttftP99,
      double itlP50,
      double itlP99,
      int kvBlocksPeak,
      int kvBlocksTotal,
      long preemptions,
      double longTtftMs,
      double itlP99DuringLong) {}

  /** Counts preemptions (the engine thread calls it). */
  static final class PreemptionCounter implements SchedulerObserver {
    final java.util.concurrent.atomic.AtomicLong count =
        new java.util.concurrent.atomic.AtomicLong();

    @Override
    public void onPreemption() {
      count.incrementAndGet();
    }
  }

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
    int[] promptList = {27};
    int longPrompt = 0;
    int maxBatchTokens = 512;
    int genTokens = 64;
    int threads = 0;
    DataSize kvMemory = DataSize.ofMegabytes(512);
    boolean json = false;
    int background = 0;
    boolean noSequential = false;
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
        case "--prompt-tokens" ->
            promptList =
                Arrays.stream(value(args, ++i, a).split(","))
                    .mapToInt(s -> positive(s.trim(), a))
                    .toArray();
        case "--long-prompt" -> longPrompt = positive(value(args, ++i, a), a);
        case "--max-batch-tokens" -> maxBatchTokens = positive(value(args, ++i, a), a);
        case "--gen-tokens" -> genTokens = positive(value(args, ++i, a), a);
        case "--threads" -> threads = positive(value(args, ++i, a), a);
        case "--kv-memory" -> kvMemory = DataSize.parse(value(args, ++i, a));
        case "--json" -> json = true;
        case "--background" -> background = Integer.parseInt(value(args, ++i, a));
        case "--no-sequential" -> noSequential = true;
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
    int promptTokens = promptList[0];
    PreemptionCounter preemptions = new PreemptionCounter();

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
              new WorkerProperties.Scheduler(
                  Math.max(16, maxConcurrency),
                  Math.max(maxBatchTokens, Math.max(16, maxConcurrency)),
                  0,
                  Math.max(1024, 2 * maxConcurrency)),
              new WorkerProperties.KvCache(16, kvMemory, "f16", true),
              new WorkerProperties.LoadReport(Duration.ofMillis(250)));
      runtime =
          new WorkerRuntime(
              props, new NativeModelLoader(), e -> {}, preemptions, Clock.systemUTC());
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
      Level lv =
          new Level(channel, modelId, vocab, format, runtime, preemptions, genTokens, longPrompt);
      // warm-up: one request, not measured
      lv.withGen(Math.min(genTokens, 8)).withLong(0).run(1, 1, promptTokens, 999_999);
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
                            false,
                            null);
                      }
                    }));
      }
      List<Row> rows = new ArrayList<>();
      Double sequential = null;
      int level = 0;
      for (int p : promptList) {
        for (int c : concurrency) {
          Row row = lv.run(c, Math.max(requests, c), p, level++ * 100_000L);
          rows.add(row);
          if (c == 1 && p == promptTokens) {
            sequential = row.genTokS();
          }
          if (!json) {
            err.printf(
                Locale.ROOT, "concurrency %d, prompt %d done: %.1f tok/s%n", c, p, row.genTokS());
          }
        }
      }
      if (sequential == null && !noSequential) {
        sequential = lv.withLong(0).run(1, requests, promptTokens, 900_000).genTokS();
      }
      stop.set(true);
      for (Thread t : batch) {
        t.join();
      }
      print(out, json, rows, sequential, info, requests, promptList, genTokens);
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

  /**
   * The token ids of the prompt of the request drawn with {@code seed}: {@code promptTokens} ids
   * below min(vocab, 30,000) from {@code SplittableRandom(seed)}. bench/serve_load.py draws the
   * same ids for llama-server (request i of the first level: seed i), so a side-by-side run sends
   * both engines the same prompts.
   */
  static List<Integer> promptIds(long seed, int promptTokens, int vocab) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Integer> ids = new ArrayList<>(promptTokens);
    for (int t = 0; t < promptTokens; t++) {
      ids.add(rnd.nextInt(Math.max(1, Math.min(vocab, 30_000))));
    }
    return ids;
  }

  /** What every level of one run shares. */
  private record Level(
      ManagedChannel channel,
      String modelId,
      int vocab,
      ResponseFormat format,
      WorkerRuntime runtime,
      PreemptionCounter preemptions,
      int genTokens,
      int longPrompt) {

    Level withGen(int g) {
      return new Level(channel, modelId, vocab, format, runtime, preemptions, g, longPrompt);
    }

    Level withLong(int l) {
      return new Level(channel, modelId, vocab, format, runtime, preemptions, genTokens, l);
    }

    GenerateRequest request(String id, long seed, int promptTokens, int gen) {
      TokenIds.Builder ids = TokenIds.newBuilder().addAllIds(promptIds(seed, promptTokens, vocab));
      GenerateRequest.Builder b =
          GenerateRequest.newBuilder()
              .setRequestId(id)
              .setModel(modelId)
              .setTokenIds(ids)
              .setReturnTokenIds(true)
              .setTenantId("bench")
              .setSampling(
                  SamplingParams.newBuilder()
                      .setTemperature(0f)
                      .setMaxTokens(gen)
                      .setIgnoreEos(true));
      if (format != null) {
        b.setResponseFormat(format);
      }
      return b.build();
    }

    Row run(int concurrency, int numRequests, int promptTokens, long seedBase) throws Exception {
      ConcurrentLinkedQueue<GenerateRequest> queue = new ConcurrentLinkedQueue<>();
      for (int i = 0; i < numRequests; i++) {
        queue.add(request("bench-" + seedBase + "-" + i, seedBase + i, promptTokens, genTokens));
      }
      ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
      AtomicInteger failures = new AtomicInteger();
      var stub = InferenceServiceGrpc.newBlockingStub(channel);
      long preempted0 = preemptions.count.get();
      int[] kvTotal = {-1};
      int[] minFree = {Integer.MAX_VALUE};
      java.util.concurrent.atomic.AtomicBoolean done =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.CountDownLatch decoding = new java.util.concurrent.CountDownLatch(1);
      Sample[] longSample = {null};
      long[] longStart = {0};
      long t0 = System.nanoTime();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> futures = new ArrayList<>();
        if (runtime != null) {
          // the most KV blocks referenced at once, sampled every 10 ms
          futures.add(
              pool.submit(
                  () -> {
                    while (!done.get()) {
                      var snap = runtime.loop().snapshot();
                      kvTotal[0] = snap.numKvBlocksTotal();
                      minFree[0] = Math.min(minFree[0], snap.numKvBlocksFree());
                      Thread.sleep(10);
                    }
                    return null;
                  }));
        }
        List<Future<?>> streams = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
          streams.add(
              pool.submit(
                  () -> {
                    GenerateRequest r;
                    while ((r = queue.poll()) != null) {
                      Sample s =
                          one(
                              stub.withDeadlineAfter(30, TimeUnit.MINUTES),
                              r,
                              format != null,
                              decoding);
                      if (s == null) {
                        failures.incrementAndGet();
                      } else {
                        samples.add(s);
                      }
                    }
                    return null;
                  }));
        }
        Future<?> longFuture = null;
        if (longPrompt > 0) {
          longFuture =
              pool.submit(
                  () -> {
                    decoding.await();
                    GenerateRequest r =
                        request("bench-long-" + seedBase, seedBase + 77_777, longPrompt, 4);
                    longStart[0] = System.nanoTime();
                    longSample[0] =
                        one(stub.withDeadlineAfter(30, TimeUnit.MINUTES), r, false, null);
                    if (longSample[0] == null) {
                      failures.incrementAndGet();
                    }
                    return null;
                  });
        }
        try {
          for (Future<?> f : streams) {
            f.get();
          }
          decoding.countDown(); // streams too short to decode: admit the long prompt anyway
          if (longFuture != null) {
            longFuture.get();
          }
        } finally {
          done.set(true);
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
      double longTtft = -1;
      double itlDuring = -1;
      if (longSample[0] != null) {
        Sample ls = longSample[0];
        longTtft = ls.ttftMs();
        long from = longStart[0];
        long to = ls.firstNanos();
        List<Double> during = new ArrayList<>();
        for (Sample s : samples) {
          for (int k = 0; k < s.itlMs().size(); k++) {
            long at = s.itlAtNanos().get(k);
            // an interval that overlaps the long prompt's prefill
            if (at >= from && at - (long) (s.itlMs().get(k) * 1e6) <= to) {
              during.add(s.itlMs().get(k));
            }
          }
        }
        itlDuring = pct(during.stream().mapToDouble(Double::doubleValue).sorted().toArray(), 99);
      }
      long preempted = runtime == null ? -1 : preemptions.count.get() - preempted0;
      int peak = kvTotal[0] < 0 ? -1 : kvTotal[0] - minFree[0];
      return new Row(
          concurrency,
          promptTokens,
          tokens / wallS,
          pct(ttft, 50),
          pct(ttft, 99),
          pct(itl, 50),
          pct(itl, 99),
          peak,
          kvTotal[0],
          preempted,
          longTtft,
          itlDuring);
    }
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
      boolean constrained,
      java.util.concurrent.CountDownLatch decoding) {
    long start = System.nanoTime();
    long last = -1;
    long first = -1;
    double ttft = -1;
    List<Double> itl = new ArrayList<>();
    List<Long> itlAt = new ArrayList<>();
    int n = 0;
    Iterator<GenerateResponse> it = stub.generate(r);
    while (it.hasNext()) {
      GenerateResponse m = it.next();
      long now = System.nanoTime();
      if (m.hasDelta() && m.getDelta().getTokenIdsCount() > 0) {
        if (last < 0) {
          ttft = (now - start) / 1e6;
          first = now;
        } else {
          itl.add((now - last) / 1e6);
          itlAt.add(now);
          if (decoding != null) {
            decoding.countDown(); // a stream has its second token: decoding is under way
          }
        }
        last = now;
        n += m.getDelta().getTokenIdsCount();
      } else if (m.hasFinished()
          && m.getFinished().getFinishReason() != FinishReason.LENGTH
          && !(constrained && m.getFinished().getFinishReason() == FinishReason.STOP)) {
        return null;
      }
    }
    return new Sample(ttft, itl, itlAt, n, first);
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
      Double sequential,
      WorkerInfo info,
      int requests,
      int[] promptList,
      int genTokens) {
    if (json) {
      StringBuilder sb = new StringBuilder("{\"rows\":[");
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        sb.append(i == 0 ? "" : ",")
            .append(
                String.format(
                    Locale.ROOT,
                    "{\"concurrency\":%d,\"gen_tok_s\":%.2f,\"ttft_ms_p50\":%.2f,\"ttft_ms_p99\":%.2f,\"itl_ms_p50\":%.2f,\"itl_ms_p99\":%.2f,\"prompt_tokens\":%d",
                    r.concurrency(),
                    r.genTokS(),
                    r.ttftP50(),
                    r.ttftP99(),
                    r.itlP50(),
                    r.itlP99(),
                    r.promptTokens()));
        if (r.kvBlocksTotal() >= 0) {
          sb.append(
              String.format(
                  Locale.ROOT,
                  ",\"kv_blocks_peak\":%d,\"kv_blocks_total\":%d,\"preemptions\":%d",
                  r.kvBlocksPeak(),
                  r.kvBlocksTotal(),
                  r.preemptions()));
        }
        if (r.longTtftMs() >= 0) {
          sb.append(
              String.format(
                  Locale.ROOT,
                  ",\"long_prompt_ttft_ms\":%.2f,\"itl_ms_p99_during_long_prefill\":%.2f",
                  r.longTtftMs(),
                  r.itlP99DuringLong()));
        }
        sb.append('}');
      }
      sb.append(']');
      if (sequential != null) {
        sb.append(String.format(Locale.ROOT, ",\"sequential_gen_tok_s\":%.2f", sequential));
      }
      sb.append('}');
      out.println(sb);
      return;
    }
    out.printf(
        Locale.ROOT,
        "model %s (%s, %s) on %s, worker %s: %d requests x (%s prompt + %d generated) tokens%n",
        info.getModel().getId(),
        info.getModel().getArchitecture(),
        info.getModel().getQuantization(),
        info.getDevice(),
        info.getWorkerId(),
        requests,
        Arrays.toString(promptList),
        genTokens);
    out.printf(
        Locale.ROOT,
        "%11s %7s %10s %10s %10s %9s %9s %13s %7s %14s%n",
        "concurrency",
        "prompt",
        "gen tok/s",
        "TTFT p50",
        "TTFT p99",
        "ITL p50",
        "ITL p99",
        "KV blocks",
        "preempt",
        "long TTFT/ITL");
    for (Row r : rows) {
      out.printf(
          Locale.ROOT,
          "%11d %7d %10.1f %8.1fms %8.1fms %7.1fms %7.1fms %13s %7s %14s%n",
          r.concurrency(),
          r.promptTokens(),
          r.genTokS(),
          r.ttftP50(),
          r.ttftP99(),
          r.itlP50(),
          r.itlP99(),
          r.kvBlocksTotal() < 0 ? "-" : r.kvBlocksPeak() + "/" + r.kvBlocksTotal(),
          r.preemptions() < 0 ? "-" : Long.toString(r.preemptions()),
          r.longTtftMs() < 0
              ? "-"
              : String.format(Locale.ROOT, "%.0f/%.0fms", r.longTtftMs(), r.itlP99DuringLong()));
    }
    if (sequential != null) {
      out.printf(Locale.ROOT, "sequential (one after another): %.1f gen tok/s%n", sequential);
    }
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
