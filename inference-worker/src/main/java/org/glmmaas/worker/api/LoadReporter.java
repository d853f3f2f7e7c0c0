package org.glmmaas.worker.api;

import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.worker.lifecycle.WorkerRuntime;
import org.glmmaas.worker.scheduler.LoadSnapshot;

/**
 * WatchLoad: a report at once, then one whenever something a router cares about changed (state,
 * running or waiting counts, free KV blocks by at least 1% of the pool), at most one per interval.
 * A subscriber that cannot take a report now simply gets a fresher one later.
 */
public final class LoadReporter implements AutoCloseable {

  private static final long MIN_INTERVAL_MS = 10;

  private final WorkerRuntime runtime;
  private final Duration defaultInterval;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("glm-load-reports").daemon(true).factory());

  public LoadReporter(WorkerRuntime runtime, Duration defaultInterval) {
    this.runtime = runtime;
    this.defaultInterval = defaultInterval;
  }

  /** The current report. */
  public LoadReport report() {
    var p = runtime.properties();
    LoadReport.Builder b =
        LoadReport.newBuilder()
            .setWorkerId(p.id())
            .setModel(p.modelId())
            .setState(runtime.state())
            .setDevice(p.device())
            .setTimestampUnixMs(runtime.clock().millis());
    if (runtime.loop() != null) {
      LoadSnapshot s = runtime.loop().snapshot();
      b.setNumRunning(s.numRunning())
          .setNumWaiting(s.numWaiting())
          .setNumKvBlocksFree(s.numKvBlocksFree())
          .setNumKvBlocksTotal(s.numKvBlocksTotal())
          .setPrefixCacheHits(s.prefixCacheHits())
          .setPrefixCacheQueries(s.prefixCacheQueries())
          .setStepTimeMs(s.meanStepTimeMs());
    } else if (runtime.embeddingLoop() != null) {
      // an embedding worker: requests queued in its embedding loop
      b.setNumWaiting(runtime.embeddingLoop().numWaiting());
    }
    return b.build();
  }

  void subscribe(WatchLoadRequest req, ServerCallStreamObserver<LoadReport> call) {
    long interval =
        req.getMinIntervalMs() == 0
            ? defaultInterval.toMillis()
            : Math.max(MIN_INTERVAL_MS, req.getMinIntervalMs());
    Subscriber sub = new Subscriber(call, TimeUnit.MILLISECONDS.toNanos(interval));
    synchronized (sub) {
      sub.send(report());
    }
    ScheduledFuture<?> task =
        timer.scheduleWithFixedDelay(
            sub::tick, interval, Math.max(1, interval / 4), TimeUnit.MILLISECONDS);
    call.setOnCancelHandler(() -> task.cancel(false));
    sub.task = task;
  }

  private final class Subscriber {
    private final ServerCallStreamObserver<LoadReport> call;
    private final long intervalNanos;
    private LoadReport last;
    private long lastSentNanos;
    volatile ScheduledFuture<?> task;

    Subscriber(ServerCallStreamObserver<LoadReport> call, long intervalNanos) {
      this.call = call;
      this.intervalNanos = intervalNanos;
    }

    synchronized void tick() {
      if (call.isCancelled()) {
        if (task != null) {
          task.cancel(false);
        }
        return;
      }
      if (System.nanoTime() - lastSentNanos < intervalNanos) {
        return; // at most one report per interval
      }
      LoadReport now = report();
      if (worthRouting(last, now) && call.isReady()) {
        send(now);
      }
      if (now.getState() == org.glmmaas.proto.inference.v1.WorkerState.STOPPED) {
        if (task != null) {
          task.cancel(false);
        }
        try {
          call.onCompleted();
        } catch (RuntimeException ignored) {
          // already closed
        }
      }
    }

    void send(LoadReport r) {
      try {
        call.onNext(r);
        last = r;
        lastSentNanos = System.nanoTime();
      } catch (RuntimeException e) {
        if (task != null) {
          task.cancel(false);
        }
      }
    }
  }

  static boolean worthRouting(LoadReport last, LoadReport now) {
    if (last == null) {
      return true;
    }
    int total = Math.max(1, now.getNumKvBlocksTotal());
    return last.getState() != now.getState()
        || last.getNumRunning() != now.getNumRunning()
        || last.getNumWaiting() != now.getNumWaiting()
        || Math.abs(last.getNumKvBlocksFree() - now.getNumKvBlocksFree()) * 100 >= total;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
