package org.glmmaas.worker.scheduler;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.glmmaas.worker.engine.Embedder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine loop of an embedding model: one thread that runs embedding steps over the requests in
 * its queue (docs/embeddings.md, "Serving").
 *
 * <p>A step carries at most {@code maxBatchTokens} tokens. Every input runs whole in one step
 * (never split: an input is at most the model's limit, which the budget always covers); a request
 * whose inputs do not fit in one step is chunked across steps by whole inputs. Requests share a
 * step fairly: each one in the queue gets an equal share of the budget (at least one input), in
 * arrival order, so a 10,000-input request does not hold back a one-input request behind it.
 */
public final class EmbeddingLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddingLoop.class);

  /** One request: its inputs and where its vectors go. */
  public static final class Job {
    final int[][] inputs;
    final float[][] vectors;
    final CompletableFuture<float[][]> done = new CompletableFuture<>();
    final Consumer<Job> onFinished;
    int next;
    int finished;
    long tokens;

    public Job(int[][] inputs, Consumer<Job> onFinished) {
      this.inputs = inputs;
      this.vectors = new float[inputs.length][];
      this.onFinished = onFinished;
      for (int[] in : inputs) {
        tokens += in.length;
      }
    }

    /** Completes with the pooled (not normalised) vectors, in input order. */
    public CompletableFuture<float[][]> result() {
      return done;
    }

    /** Tokens of all inputs. */
    public long tokens() {
      return tokens;
    }
  }

  private final Embedder embedder;
  private final int maxBatchTokens;
  private final int maxWaiting;
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  private final Thread thread;
  private volatile boolean closed;
  private long steps;

  /**
   * @param maxBatchTokens token budget of one step (raised to the model's input limit if lower)
   * @param maxWaiting requests queued at most; more are refused with {@link OverloadedException}
   */
  public EmbeddingLoop(Embedder embedder, int maxBatchTokens, int maxWaiting, String name) {
    this.embedder = embedder;
    this.maxBatchTokens = Math.max(maxBatchTokens, embedder.maxInputTokens());
    this.maxWaiting = maxWaiting;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  public int maxBatchTokens() {
    return maxBatchTokens;
  }

  /** Queues a request; its future completes when its last input has run. */
  public synchronized void submit(Job job) {
    if (closed) {
      throw new IllegalStateException("the embedding loop is stopped");
    }
    if (queue.size() >= maxWaiting) {
      throw new OverloadedException(
          "the embedding queue is full (" + maxWaiting + " requests waiting)");
    }
    if (job.inputs.length == 0) {
      job.done.complete(job.vectors);
      return;
    }
    queue.addLast(job);
    notifyAll();
  }

  public synchronized int numWaiting() {
    return queue.size();
  }

  public synchronized boolean isIdle() {
    return queue.isEmpty();
  }

  /** Steps run so far. */
  public synchronized long steps() {
    return steps;
  }

  private record Slice(Job job, int from, int to) {}

  /** The next step's inputs: a fair share of the budget for each queued request, whole inputs. */
  private synchronized List<Slice> nextStep() throws InterruptedException {
    while (queue.isEmpty() && !closed) {
      wait();
    }
    if (closed) {
      return List.of();
    }
    List<Slice> step = new ArrayList<>();
    long budget = maxBatchTokens;
    long share = Math.max(1, budget / queue.size());
    for (Job j : queue) {
      long used = 0;
      int i = j.next;
      while (i < j.inputs.length) {
        int len = j.inputs[i].length;
        boolean first = i == j.next;
        if (len > budget || (!first && used + len > share)) {
          break;
        }
        used += len;
        budget -= len;
        i++;
      }
      if (i > j.next) {
        step.add(new Slice(j, j.next, i));
        j.next = i;
      }
      if (budget <= 0) {
        break;
      }
    }
    // Requests whose every input is now scheduled leave the queue (they finish with this step).
    queue.removeIf(j -> j.next == j.inputs.length);
    steps++;
    return step;
  }

  private void run() {
    while (true) {
      List<Slice> step;
      try {
        step = nextStep();
      } catch (InterruptedException e) {
        return;
      }
      if (step.isEmpty()) {
        return;
      }
      List<int[]> batch = new ArrayList<>();
      for (Slice s : step) {
        for (int i = s.from; i < s.to; i++) {
          batch.add(s.job.inputs[i]);
        }
      }
      float[][] out;
      try {
        out = embedder.embed(batch.toArray(new int[0][]));
      } catch (RuntimeException e) {
        log.error("embedding step of {} inputs failed: {}", batch.size(), e.toString());
        for (Slice s : step) {
          fail(s.job, e);
        }
        continue;
      }
      int k = 0;
      for (Slice s : step) {
        for (int i = s.from; i < s.to; i++) {
          s.job.vectors[i] = out[k++];
        }
        s.job.finished += s.to - s.from;
        if (s.job.finished == s.job.inputs.length && !s.job.done.isDone()) {
          s.job.done.complete(s.job.vectors);
          if (s.job.onFinished != null) {
            s.job.onFinished.accept(s.job);
          }
        }
      }
    }
  }

  private synchronized void fail(Job job, RuntimeException e) {
    queue.remove(job);
    job.done.completeExceptionally(e);
  }

  /** Stops taking requests; queued ones fail. */
  @Override
  public void close() {
    List<Job> left;
    synchronized (this) {
      closed = true;
      left = new ArrayList<>(queue);
      queue.clear();
      notifyAll();
    }
    for (Job j : left) {
      j.done.completeExceptionally(new IllegalStateException("the worker is stopping"));
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
