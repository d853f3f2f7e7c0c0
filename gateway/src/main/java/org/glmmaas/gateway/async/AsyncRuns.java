package org.glmmaas.gateway.async;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The async generations running in this gateway, drained at shutdown. They run in the same shutdown
 * phase as the web server's graceful shutdown (so they get the same grace as open HTTP calls);
 * those that have not finished shortly before the phase's timeout are cancelled (the worker stops,
 * the lease and holds go back, what ran is billed from the worker's usage) and their tasks stored
 * as FAIL, so a client polling the result sees an ending, never a task left PROCESSING by a gateway
 * that is gone. While stopping, new async submissions are refused.
 */
public final class AsyncRuns implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(AsyncRuns.class);

  private final Duration grace;
  private final Set<Run> runs = ConcurrentHashMap.newKeySet();
  private volatile boolean running;
  private volatile boolean stopping;

  /**
   * @param grace the shutdown phase's timeout ({@code spring.lifecycle.timeout-per-shutdown-phase})
   */
  public AsyncRuns(Duration grace) {
    this.grace = grace;
  }

  /** One background generation. */
  public final class Run {
    private volatile Disposable generation;
    private final Supplier<Mono<Void>> storeCut;

    private Run(Supplier<Mono<Void>> storeCut) {
      this.storeCut = storeCut;
    }

    /** The subscription of the generation (and its result's store write). */
    public void attach(Disposable d) {
      generation = d;
    }

    /** The generation and its result's store write are over. */
    public void end() {
      runs.remove(this);
    }
  }

  /**
   * Registers a generation about to start, or returns null when the gateway is shutting down.
   *
   * @param storeCut stores the task as FAIL (the gateway shut down before it finished)
   */
  public Run begin(Supplier<Mono<Void>> storeCut) {
    if (stopping) {
      return null;
    }
    Run r = new Run(storeCut);
    runs.add(r);
    return r;
  }

  /** True once shutdown began: new async tasks are refused. */
  public boolean stopping() {
    return stopping;
  }

  /** Async generations running now. */
  public int size() {
    return runs.size();
  }

  @Override
  public void start() {
    running = true;
  }

  @Override
  public void stop() {
    stopping = true;
    drain();
    running = false;
  }

  @Override
  public void stop(Runnable callback) {
    stopping = true;
    Thread.ofPlatform()
        .name("async-drain")
        .daemon(true)
        .start(
            () -> {
              try {
                drain();
              } finally {
                running = false;
                callback.run();
              }
            });
  }

  /**
   * Waits for the running generations until shortly before the phase's timeout, then cancels the
   * rest and stores them as FAIL.
   */
  private void drain() {
    if (runs.isEmpty()) {
      return;
    }
    // what is left for cancelling and storing: a quarter of the grace, at most 3 s
    long reserve = Math.min(grace.toNanos() / 4, Duration.ofSeconds(3).toNanos());
    long deadline = System.nanoTime() + grace.toNanos() - reserve;
    log.info("waiting for {} async generation(s) to finish", runs.size());
    try {
      while (!runs.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Run> cut = List.copyOf(runs);
    if (cut.isEmpty()) {
      return;
    }
    log.warn(
        "{} async generation(s) still running at the end of the shutdown grace: cancelled and"
            + " stored as failed",
        cut.size());
    try {
      Mono.when(
              cut.stream()
                  .map(
                      r -> {
                        Disposable d = r.generation;
                        if (d != null) {
                          d.dispose();
                        }
                        return r.storeCut
                            .get()
                            .doOnError(
                                e -> log.warn("storing a cut async task failed: {}", e.toString()))
                            .onErrorResume(e -> Mono.empty())
                            .doFinally(s -> r.end());
                      })
                  .toList())
          .block(Duration.ofNanos(Math.max(reserve, Duration.ofMillis(500).toNanos())));
    } catch (RuntimeException e) {
      // a store too slow to answer: those tasks read as failed once stale (AsyncHandler)
      log.warn("storing the cut async tasks did not finish in time: {}", e.toString());
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** The web server's graceful-shutdown phase: drained alongside open HTTP calls. */
  @Override
  public int getPhase() {
    return WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE;
  }
}
