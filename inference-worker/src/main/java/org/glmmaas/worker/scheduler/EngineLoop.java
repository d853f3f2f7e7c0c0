package org.glmmaas.worker.scheduler;

import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.glmmaas.worker.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one engine thread: {@code out = scheduler.schedule(); logits = engine.forward(out.batch());
 * scheduler.update(out, logits)}, over and over while there is work; parks when idle. Other threads
 * hand it requests and commands through lock-free queues.
 */
public final class EngineLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EngineLoop.class);

  private final Scheduler scheduler;
  private final Engine engine;
  private final SchedulerObserver observer;
  private final ConcurrentLinkedQueue<Request> incoming = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
  private final AtomicInteger numIncoming = new AtomicInteger();
  private final Thread thread;
  private volatile boolean stopping;
  private volatile LoadSnapshot snapshot;
  private volatile int schedulerWaiting;
  private long numSteps;
  private double emaStepMs;

  public EngineLoop(
      Scheduler scheduler, Engine engine, SchedulerObserver observer, String threadName) {
    this.scheduler = scheduler;
    this.engine = engine;
    this.observer = observer == null ? SchedulerObserver.NONE : observer;
    this.thread = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::run);
    publishSnapshot();
  }

  public void start() {
    thread.start();
  }

  public Scheduler scheduler() {
    return scheduler;
  }

  /**
   * Queues a request for the next step.
   *
   * @throws OverloadedException when max-waiting requests are already queued
   */
  public void submit(Request request) {
    int max = scheduler.config().maxWaiting();
    if (numIncoming.incrementAndGet() + schedulerWaiting > max) {
      numIncoming.decrementAndGet();
      throw new OverloadedException("the worker's queue is full (" + max + " waiting requests)");
    }
    incoming.add(request);
    LockSupport.unpark(thread);
  }

  /** Queues the choices of one request together: all or none (overloaded). */
  public void submitAll(java.util.List<Request> requests) {
    int max = scheduler.config().maxWaiting();
    if (numIncoming.addAndGet(requests.size()) + schedulerWaiting > max + requests.size() - 1) {
      numIncoming.addAndGet(-requests.size());
      throw new OverloadedException("the worker's queue is full (" + max + " waiting requests)");
    }
    incoming.addAll(requests);
    LockSupport.unpark(thread);
  }

  /** Runs {@code action} on the engine thread before the next step. */
  public CompletableFuture<Void> runOnEngineThread(Runnable action) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    commands.add(
        () -> {
          try {
            action.run();
            done.complete(null);
          } catch (RuntimeException e) {
            done.completeExceptionally(e);
          }
        });
    LockSupport.unpark(thread);
    return done;
  }

  /** Wakes the loop so that a cancellation takes effect without waiting for other work. */
  public void wakeUp() {
    LockSupport.unpark(thread);
  }

  /**
   * The state after the last step; the waiting count is live (includes requests not yet picked up).
   */
  public LoadSnapshot snapshot() {
    LoadSnapshot s = snapshot;
    int waiting = schedulerWaiting + numIncoming.get();
    return waiting == s.numWaiting()
        ? s
        : new LoadSnapshot(
            s.numRunning(),
            waiting,
            s.numKvBlocksFree(),
            s.numKvBlocksTotal(),
            s.prefixCacheQueries(),
            s.prefixCacheHits(),
            s.numSteps(),
            s.meanStepTimeMs(),
            s.lastProgressNanos());
  }

  public boolean isIdle() {
    LoadSnapshot s = snapshot();
    return s.numRunning() == 0 && s.numWaiting() == 0 && incoming.isEmpty();
  }

  public boolean isAlive() {
    return thread.isAlive();
  }

  private void run() {
    while (!stopping) {
      try {
        runCommands();
        takeIncoming();
        if (!scheduler.hasWork()) {
          publishSnapshot();
          LockSupport.parkNanos(this, Duration.ofMillis(200).toNanos());
          continue;
        }
        step();
        publishSnapshot();
      } catch (RuntimeException | Error e) {
        log.error("engine loop iteration failed: {}", e.toString(), e);
        scheduler.abortAll(FinishReason.ERROR);
        publishSnapshot();
      }
    }
  }

  private void step() {
    SchedulerOutput out = scheduler.schedule();
    publishSnapshot();
    if (out.isEmpty()) {
      if (scheduler.hasWork()) {
        LockSupport.parkNanos(this, Duration.ofMillis(1).toNanos());
      }
      return;
    }
    long t0 = System.nanoTime();
    FloatBuffer logits;
    try {
      logits = engine.forward(out.batch());
    } catch (RuntimeException e) {
      log.error(
          "engine step failed ({} tokens, {} sequences): {}",
          out.batch().numTokens(),
          out.batch().numSeqs(),
          e.getMessage());
      scheduler.failStep(out, e);
      return;
    }
    long nanos = System.nanoTime() - t0;
    numSteps++;
    double ms = nanos / 1e6;
    emaStepMs = numSteps == 1 ? ms : 0.9 * emaStepMs + 0.1 * ms;
    observer.onStep(Duration.ofNanos(nanos), out.batch().numTokens(), out.batch().numSeqs());
    scheduler.update(out, logits);
  }

  private void runCommands() {
    Runnable c;
    while ((c = commands.poll()) != null) {
      c.run();
    }
  }

  private void takeIncoming() {
    Request r;
    while ((r = incoming.poll()) != null) {
      numIncoming.decrementAndGet();
      scheduler.add(r);
    }
  }

  private void publishSnapshot() {
    var pool = scheduler.kvCache().pool();
    schedulerWaiting = scheduler.numWaiting();
    snapshot =
        new LoadSnapshot(
            scheduler.numRunning(),
            scheduler.numWaiting() + numIncoming.get(),
            pool.numFreeBlocks(),
            pool.numBlocks(),
            scheduler.kvCache().numQueries(),
            scheduler.kvCache().numHits(),
            numSteps,
            emaStepMs,
            System.nanoTime());
  }

  /** Stops the thread (after aborting what is left) and waits for it. Does not close the engine. */
  @Override
  public void close() {
    if (!thread.isAlive()) {
      return;
    }
    runOnEngineThread(() -> scheduler.abortAll(FinishReason.ABORTED));
    commands.add(() -> stopping = true);
    LockSupport.unpark(thread);
    try {
      thread.join(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
