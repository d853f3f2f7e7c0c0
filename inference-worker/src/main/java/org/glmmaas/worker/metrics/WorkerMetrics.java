package org.glmmaas.worker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;
import org.glmmaas.worker.scheduler.FinishInfo;
import org.glmmaas.worker.scheduler.FinishReason;
import org.glmmaas.worker.scheduler.LoadSnapshot;
import org.glmmaas.worker.scheduler.SchedulerObserver;

/**
 * The worker's Micrometer meters, exported as {@code glm_*} with low-cardinality labels only
 * (model, worker, device, finish_reason). Fed by the engine thread through {@link
 * SchedulerObserver}.
 */
public final class WorkerMetrics implements SchedulerObserver {

  private final Timer ttft;
  private final Timer itl;
  private final Timer step;
  private final Counter promptTokens;
  private final Counter generationTokens;
  private final Counter preemptions;
  private final Counter prefixHits;
  private final Counter prefixQueries;
  private final DistributionSummary batchTokens;
  private final Map<FinishReason, Counter> finished = new EnumMap<>(FinishReason.class);

  /**
   * @param snapshot the engine loop's latest state (may return null before the model is loaded)
   */
  public WorkerMetrics(
      MeterRegistry registry,
      String model,
      String workerId,
      String device,
      Supplier<LoadSnapshot> snapshot) {
    Tags tags = Tags.of("model", model, "worker", workerId, "device", device);
    ttft =
        Timer.builder("glm.request.time.to.first.token")
            .description("Arrival to first generated token")
            .tags(tags)
            .publishPercentileHistogram()
            .register(registry);
    itl =
        Timer.builder("glm.request.inter.token.latency")
            .description("Time between generated tokens of a request")
            .tags(tags)
            .publishPercentileHistogram()
            .register(registry);
    step =
        Timer.builder("glm.engine.step")
            .description("Engine forward step time")
            .tags(tags)
            .publishPercentileHistogram()
            .register(registry);
    promptTokens =
        Counter.builder("glm.prompt.tokens")
            .description("Prompt tokens of finished requests")
            .tags(tags)
            .register(registry);
    generationTokens =
        Counter.builder("glm.generation.tokens")
            .description("Generated tokens of finished requests")
            .tags(tags)
            .register(registry);
    preemptions =
        Counter.builder("glm.num.preemptions")
            .description("Sequences preempted for lack of KV blocks")
            .tags(tags)
            .register(registry);
    prefixHits =
        Counter.builder("glm.prefix.cache.hits")
            .description("Prompt blocks served from the prefix cache")
            .tags(tags)
            .register(registry);
    prefixQueries =
        Counter.builder("glm.prefix.cache.queries")
            .description("Prompt blocks looked up in the prefix cache")
            .tags(tags)
            .register(registry);
    batchTokens =
        DistributionSummary.builder("glm.engine.step.tokens")
            .description("Tokens per engine step")
            .tags(tags)
            .register(registry);
    for (FinishReason r : FinishReason.values()) {
      finished.put(
          r,
          Counter.builder("glm.request.success")
              .description("Finished requests by finish reason")
              .tags(tags)
              .tag("finish_reason", r.label())
              .register(registry));
    }
    Gauge.builder("glm.num.requests.running", snapshot, s -> value(s, LoadSnapshot::numRunning))
        .description("Sequences being prefilled or decoded")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    Gauge.builder("glm.num.requests.waiting", snapshot, s -> value(s, LoadSnapshot::numWaiting))
        .description("Requests queued")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    Gauge.builder(
            "glm.kv.cache.usage.ratio", snapshot, s -> s.get() == null ? 0 : s.get().kvCacheUsage())
        .description("Fraction of KV blocks in use")
        .tags(tags)
        .strongReference(true)
        .register(registry);
  }

  private static double value(
      Supplier<LoadSnapshot> s, java.util.function.ToIntFunction<LoadSnapshot> f) {
    LoadSnapshot snap = s.get();
    return snap == null ? 0 : f.applyAsInt(snap);
  }

  @Override
  public void onFirstToken(Duration timeToFirstToken) {
    ttft.record(timeToFirstToken);
  }

  @Override
  public void onInterToken(Duration latency) {
    itl.record(latency);
  }

  @Override
  public void onPreemption() {
    preemptions.increment();
  }

  @Override
  public void onPrefixLookup(long numQueries, long numHits) {
    if (numQueries > 0) {
      prefixQueries.increment(numQueries);
      prefixHits.increment(numHits);
    }
  }

  @Override
  public void onFinished(FinishInfo finish) {
    finished.get(finish.reason()).increment();
    if (finish.consumedEngineWork()) {
      promptTokens.increment(finish.numPromptTokens());
      generationTokens.increment(finish.numCompletionTokens());
    }
  }

  @Override
  public void onStep(Duration stepTime, int numTokens, int numSeqs) {
    step.record(stepTime);
    batchTokens.record(numTokens);
  }
}
