package org.glmmaas.auth.credential;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.glmmaas.auth.AuthProperties;
import org.glmmaas.auth.key.ApiKeyRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Keeps {@code last_used_at} without a database write per call: a successful authentication only
 * puts the time into a map; every {@code glm.auth.last-used-flush-interval} one batched UPDATE
 * writes the latest time of each key used since, so each key is written at most once per interval.
 * Flushed once more on shutdown.
 */
@Component
public class LastUsedRecorder implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(LastUsedRecorder.class);

  private final ApiKeyRepository keys;
  private final Clock clock;
  private final long intervalMs;
  private final ConcurrentHashMap<String, Instant> pending = new ConcurrentHashMap<>();
  private ScheduledExecutorService scheduler;

  public LastUsedRecorder(ApiKeyRepository keys, Clock clock, AuthProperties props) {
    this.keys = keys;
    this.clock = clock;
    this.intervalMs = props.lastUsedFlushInterval().toMillis();
  }

  void record(String keyId) {
    pending.put(keyId, clock.instant());
  }

  /** Writes what is pending now; returns the number of keys written. */
  public synchronized int flush() {
    if (pending.isEmpty()) {
      return 0;
    }
    Map<String, Instant> batch = new HashMap<>();
    for (String id : pending.keySet()) {
      Instant at = pending.remove(id);
      if (at != null) {
        batch.put(id, at);
      }
    }
    try {
      keys.touch(batch);
    } catch (RuntimeException e) {
      batch.forEach(pending::putIfAbsent);
      log.warn(
          "Could not record last_used_at of {} keys, will retry: {}", batch.size(), e.toString());
      return 0;
    }
    return batch.size();
  }

  @Override
  public synchronized void start() {
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("last-used-flush").factory());
    scheduler.scheduleWithFixedDelay(this::flush, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void stop() {
    if (scheduler != null) {
      scheduler.shutdownNow();
      scheduler = null;
      flush();
    }
  }

  /**
   * Started before and stopped after the gRPC server (default phase), so its last flush sees every
   * call.
   */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 1000;
  }

  @Override
  public synchronized boolean isRunning() {
    return scheduler != null;
  }
}
