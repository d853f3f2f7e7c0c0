package org.glmmaas.worker.lifecycle;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.glmmaas.proto.inference.v1.WorkerState;
import org.glmmaas.worker.config.WorkerProperties;
import org.glmmaas.worker.engine.Engine;
import org.glmmaas.worker.kvcache.KvCacheManager;
import org.glmmaas.worker.sample.SamplingConfig;
import org.glmmaas.worker.scheduler.EmbeddingLoop;
import org.glmmaas.worker.scheduler.EngineLoop;
import org.glmmaas.worker.scheduler.FinishReason;
import org.glmmaas.worker.scheduler.Request;
import org.glmmaas.worker.scheduler.RequestMetadata;
import org.glmmaas.worker.scheduler.RequestOutput;
import org.glmmaas.worker.scheduler.Scheduler;
import org.glmmaas.worker.scheduler.SchedulerConfig;
import org.glmmaas.worker.scheduler.SchedulerObserver;
import org.glmmaas.worker.scheduler.UsageReporter;
import org.glmmaas.worker.text.TextModel;
import org.glmmaas.worker.usage.UsageSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's life: LOADING (open the model) -> WARMING (size the KV pool from the memory budget,
 * start the engine loop, run a warm-up request) -> READY -> DRAINING (refuse new requests, let
 * running ones finish until the drain timeout, abort the rest with their usage) -> STOPPED. Plain
 * object: Spring wraps it in a SmartLifecycle, the bench command uses it directly.
 */
public final class WorkerRuntime {

  private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

  private final WorkerProperties props;
  private final ModelLoader loader;
  private final UsageSink usageSink;
  private final SchedulerObserver observer;
  private final Clock clock;
  private final List<Consumer<WorkerState>> listeners = new CopyOnWriteArrayList<>();
  private volatile WorkerState state = WorkerState.LOADING;
  private volatile LoadedModel model;
  private volatile Engine engine;
  private volatile EngineLoop loop;
  private volatile String failure;
  private volatile Instant loadedAt = Instant.EPOCH;
  private volatile int maxModelLen;
  private volatile EmbeddingLoop embeddingLoop;
  private volatile org.glmmaas.worker.engine.Embedder embedder;

  public WorkerRuntime(
      WorkerProperties props,
      ModelLoader loader,
      UsageSink usageSink,
      SchedulerObserver observer,
      Clock clock) {
    this.props = props;
    this.loader = loader;
    this.usageSink = usageSink;
    this.observer = observer;
    this.clock = clock;
  }

  public WorkerProperties properties() {
    return props;
  }

  public WorkerState state() {
    return state;
  }

  /** Why the worker is not serving, or null. */
  public String failure() {
    return failure;
  }

  public boolean isReady() {
    return state == WorkerState.READY;
  }

  public EngineLoop loop() {
    return loop;
  }

  /** The loaded model when it is an embedding model, else null. */
  public EmbeddingModel embeddingModel() {
    return model instanceof EmbeddingModel em ? em : null;
  }

  /** The embedding loop of an embedding model (null for a chat model or before READY). */
  public EmbeddingLoop embeddingLoop() {
    return embeddingLoop;
  }

  /** Where usage events go (the embedding path publishes its own). */
  public UsageSink usageSink() {
    return usageSink;
  }

  public TextModel textModel() {
    return model == null ? null : model.textModel();
  }

  public ModelDescription description() {
    return model == null ? null : model.description();
  }

  public Engine engine() {
    return engine;
  }

  public Instant loadedAt() {
    return loadedAt;
  }

  /** Prompt + generated tokens per sequence at most. */
  public int maxModelLen() {
    return maxModelLen;
  }

  public Clock clock() {
    return clock;
  }

  public void addStateListener(Consumer<WorkerState> listener) {
    listeners.add(listener);
    listener.accept(state);
  }

  /** Loads and warms up, blocking; on failure stays out of READY with {@link #failure()} set. */
  public void start() {
    setState(WorkerState.LOADING);
    if (props.model().isBlank()) {
      failure = "no model configured: set glm.worker.model to a GGUF file";
      log.warn(
          "glm.worker.model is not set: the worker starts but serves nothing (gRPC answers UNAVAILABLE)");
      return;
    }
    long t0 = System.nanoTime();
    try {
      model = loader.load(props);
      loadedAt = clock.instant();
      log.info(
          "model {} loaded in {} ms ({}, {} parameters, {})",
          props.modelId(),
          (System.nanoTime() - t0) / 1_000_000,
          model.description().architecture(),
          model.description().numParameters(),
          model.description().quantization());
      setState(WorkerState.WARMING);
      if (model instanceof EmbeddingModel em) {
        startEmbedding(em);
      } else {
        warmUp();
      }
      setState(WorkerState.READY);
    } catch (RuntimeException e) {
      failure = "model load failed: " + e.getMessage();
      log.error("worker failed to start: {}", e.getMessage(), e);
      closeEngine();
      setState(WorkerState.STOPPED);
    }
  }

  private void warmUp() {
    var kv = props.kvCache();
    long blockBytes = model.kvBlockBytes(kv.blockSize(), kv.dtype());
    long numBlocksLong = kv.memory().toBytes() / blockBytes;
    int contextLength = model.description().contextLength();
    int wanted =
        props.scheduler().maxModelLen() > 0 ? props.scheduler().maxModelLen() : contextLength;
    if (numBlocksLong < 1) {
      throw new IllegalStateException(
          "glm.worker.kv-cache.memory ("
              + kv.memory()
              + ") is below one KV block ("
              + blockBytes
              + " bytes)");
    }
    int numBlocks = (int) Math.min(Integer.MAX_VALUE / kv.blockSize(), numBlocksLong);
    int capacity = numBlocks * kv.blockSize();
    maxModelLen = Math.min(wanted, capacity);
    if (maxModelLen < wanted) {
      log.warn(
          "max-model-len lowered from {} to {} tokens: the KV budget {} holds {} blocks of {} tokens",
          wanted,
          maxModelLen,
          kv.memory(),
          numBlocks,
          kv.blockSize());
    }
    engine = model.createEngine(numBlocks, kv.blockSize(), kv.dtype());
    log.info(
        "KV pool: {} blocks x {} tokens ({} bytes/block, budget {}), device {}, {} threads",
        numBlocks,
        kv.blockSize(),
        blockBytes,
        kv.memory(),
        props.device(),
        props.effectiveThreads());
    var sc = props.scheduler();
    SchedulerConfig config =
        new SchedulerConfig(
            sc.maxNumSeqs(), sc.maxNumBatchedTokens(), maxModelLen, sc.maxWaiting());
    KvCacheManager kvCache =
        new KvCacheManager(numBlocks, kv.blockSize(), kv.enablePrefixCaching());
    TextModel text = model.textModel();
    Scheduler scheduler =
        new Scheduler(
            config,
            kvCache,
            clock,
            engine.info().vocabSize(),
            observer,
            new UsageReporter(usageSink, props.id()));
    loop = new EngineLoop(scheduler, engine, observer, "glm-engine");
    loop.start();

    // One short greedy request through the whole path: tokenizer, scheduler, engine, sampler.
    int[] prompt = text.tokenizer().encode("Hello", false);
    if (prompt.length == 0) {
      prompt = new int[] {0};
    }
    SamplingConfig greedy =
        new SamplingConfig(0f, 1f, 0, 0f, 1f, 0f, 0f, false, 0, 2, List.of(), true, false, 0);
    CompletableFuture<RequestOutput> done = new CompletableFuture<>();
    Request warm =
        new Request(
            "warm-up",
            prompt,
            greedy,
            text.newSampler(greedy),
            text.newStreamDecoder(List.of()),
            text.tokenizer()::isEndOfGeneration,
            0,
            clock.instant(),
            null,
            new RequestMetadata(props.modelId(), "", "", "", "", false),
            o -> {
              if (o.finished()) {
                done.complete(o);
              }
            });
    long t0 = System.nanoTime();
    loop.submit(warm);
    RequestOutput out;
    try {
      out = done.get(10, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException("warm-up did not finish: " + e, e);
    }
    if (out.finish().reason() == FinishReason.ERROR) {
      throw new IllegalStateException("warm-up failed: " + out.finish().errorMessage());
    }
    log.info("warm-up done in {} ms", (System.nanoTime() - t0) / 1_000_000);
  }

  /** An embedding model: its embedder and loop, then one warm-up input through them. */
  private void startEmbedding(EmbeddingModel em) {
    maxModelLen = em.maxInputTokens();
    var sc = props.scheduler();
    embedder = em.createEmbedder(Math.max(sc.maxNumBatchedTokens(), em.maxInputTokens()));
    EmbeddingLoop l =
        new EmbeddingLoop(embedder, sc.maxNumBatchedTokens(), sc.maxWaiting(), "glm-embed");
    l.start();
    embeddingLoop = l;
    long t0 = System.nanoTime();
    int[] warm = em.tokenizer().encode("Hello", true, false);
    EmbeddingLoop.Job job = new EmbeddingLoop.Job(new int[][] {warm}, null);
    l.submit(job);
    try {
      job.result().get(10, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException("warm-up did not finish: " + e, e);
    }
    log.info(
        "embedding model ready: {} dims, inputs up to {} tokens, {} tokens per step, warm-up {} ms",
        em.dimensions(),
        em.maxInputTokens(),
        l.maxBatchTokens(),
        (System.nanoTime() - t0) / 1_000_000);
  }

  /**
   * Stops admitting, waits until running requests finish or {@code timeout} passes, aborts the rest
   * (their usage is published), stops the engine loop and closes the engine.
   */
  public void drainAndStop(Duration timeout) {
    if (state == WorkerState.STOPPED) {
      return;
    }
    setState(WorkerState.DRAINING);
    EmbeddingLoop el = embeddingLoop;
    if (el != null) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!el.isIdle() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      el.close();
    }
    EngineLoop l = loop;
    if (l != null) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!l.isIdle() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (!l.isIdle()) {
        log.warn(
            "drain timeout {} passed with {} running and {} waiting: aborting them",
            timeout,
            l.snapshot().numRunning(),
            l.snapshot().numWaiting());
      }
      l.close();
    }
    closeEngine();
    setState(WorkerState.STOPPED);
  }

  private void closeEngine() {
    try {
      if (engine != null) {
        engine.close();
      }
      if (embedder != null) {
        embedder.close();
      }
      if (model != null) {
        model.close();
      }
    } catch (RuntimeException e) {
      log.warn("closing the engine failed: {}", e.toString());
    }
  }

  private void setState(WorkerState s) {
    if (state != s) {
      log.info("worker {} state {} -> {}", props.id(), state, s);
    }
    state = s;
    for (Consumer<WorkerState> l : listeners) {
      try {
        l.accept(s);
      } catch (RuntimeException e) {
        log.warn("state listener failed: {}", e.toString());
      }
    }
  }
}
