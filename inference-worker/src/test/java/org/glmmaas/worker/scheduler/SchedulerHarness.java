package org.glmmaas.worker.scheduler;

import java.nio.FloatBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.worker.engine.EngineException;
import org.glmmaas.worker.kvcache.KvCacheManager;
import org.glmmaas.worker.sample.SamplingConfig;

/** A scheduler driven step by step on the test thread against a {@link FakeEngine}. */
class SchedulerHarness {

  static final int VOCAB = 64;

  final FakeClock clock = new FakeClock();
  final FakeEngine engine;
  final FakeTextModel text = new FakeTextModel(VOCAB);
  final KvCacheManager kv;
  final Scheduler scheduler;
  final List<UsageEvent> usage = new CopyOnWriteArrayList<>();
  final List<SchedulerOutput> steps = new ArrayList<>();
  private int nextId;

  SchedulerHarness(SchedulerConfig config, int blockSize, int numBlocks, boolean prefixCaching) {
    engine = new FakeEngine(VOCAB, blockSize, numBlocks);
    kv = new KvCacheManager(numBlocks, blockSize, prefixCaching);
    scheduler =
        new Scheduler(
            config,
            kv,
            clock,
            VOCAB,
            SchedulerObserver.NONE,
            new UsageReporter(usage::add, "worker-test"));
  }

  /** Collects a request's outputs. */
  static final class Collected implements RequestOutputSink {
    final List<RequestOutput> outputs = new CopyOnWriteArrayList<>();

    /** Each onScheduled call: the time queued, and how many outputs had come before it. */
    final List<java.time.Duration> scheduled = new CopyOnWriteArrayList<>();

    final List<Integer> outputsBeforeScheduled = new CopyOnWriteArrayList<>();
    volatile Request request;

    @Override
    public void onOutput(RequestOutput o) {
      outputs.add(o);
    }

    @Override
    public void onScheduled(java.time.Duration queued) {
      scheduled.add(queued);
      outputsBeforeScheduled.add(outputs.size());
    }

    List<Integer> tokens() {
      List<Integer> t = new ArrayList<>();
      for (RequestOutput o : outputs) {
        for (int id : o.newTokenIds()) {
          t.add(id);
        }
      }
      return t;
    }

    String text() {
      StringBuilder sb = new StringBuilder();
      outputs.forEach(o -> sb.append(o.text()));
      return sb.toString();
    }

    FinishInfo finish() {
      return outputs.isEmpty() ? null : outputs.getLast().finish();
    }
  }

  Request request(
      int[] prompt,
      SamplingConfig sampling,
      String tenant,
      int priority,
      Instant deadline,
      Collected sink) {
    Request r =
        new Request(
            "req-" + nextId++,
            prompt,
            sampling,
            text.newSampler(sampling),
            text.newStreamDecoder(sampling.stop()),
            id -> id == 0,
            priority,
            clock.instant(),
            deadline,
            new RequestMetadata("fake", tenant, "key", "", "", true),
            sink);
    sink.request = r;
    return r;
  }

  Collected submit(int[] prompt, SamplingConfig sampling) {
    return submit(prompt, sampling, "tenant-a", 0, null);
  }

  Collected submit(
      int[] prompt, SamplingConfig sampling, String tenant, int priority, Instant deadline) {
    Collected c = new Collected();
    scheduler.add(request(prompt, sampling, tenant, priority, deadline, c));
    return c;
  }

  SchedulerOutput step() {
    SchedulerOutput out = scheduler.schedule();
    steps.add(out);
    if (out.isEmpty()) {
      return out;
    }
    FloatBuffer logits;
    try {
      logits = engine.forward(out.batch());
    } catch (EngineException e) {
      scheduler.failStep(out, e);
      return out;
    }
    scheduler.update(out, logits);
    kv.pool().checkInvariants();
    return out;
  }

  int runUntilIdle(int maxSteps) {
    int n = 0;
    while (scheduler.hasWork()) {
      if (++n > maxSteps) {
        throw new AssertionError("not idle after " + maxSteps + " steps");
      }
      step();
    }
    return n;
  }

  static int[] prompt(long seed, int length) {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
    int[] p = new int[length];
    for (int i = 0; i < length; i++) {
      p[i] = 1 + rnd.nextInt(VOCAB - 1);
    }
    return p;
  }

  static int[] concat(int[] a, int[] b) {
    int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
