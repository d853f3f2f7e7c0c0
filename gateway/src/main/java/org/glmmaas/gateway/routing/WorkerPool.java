package org.glmmaas.gateway.routing;

import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.glmmaas.proto.inference.v1.GetInfoRequest;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.WatchLoadRequest;
import org.glmmaas.proto.inference.v1.WorkerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The known workers, each watched through one WatchLoad stream. The set changes with discovery
 * ({@link #setAddresses}): a new address gets its channels and a stream, a gone one is drained.
 *
 * <p>Health: a broken stream marks the worker down at once (no traffic goes there) and is re-opened
 * with backoff. A worker reports only on change, so silence alone is no fault; after {@code
 * loadReportTimeout} of silence the pool opens a fresh WatchLoad (the contract answers one with a
 * report at once). Answered: it replaces the old stream. Not answered within the same time: the
 * worker is hung-but-open, so it is marked down and reconnected with backoff.
 */
public final class WorkerPool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
  private static final long MAX_BACKOFF_MS = 5000;

  private final List<WorkerEndpoint> workers = new CopyOnWriteArrayList<>();
  private final Map<String, Watch> watches = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("worker-watch").factory());
  private final LoopChannels.EventLoops loops;
  private final int minIntervalMs;
  private final long baseBackoffMs;
  private final long silenceNanos;
  private volatile boolean started;
  private volatile boolean closed;

  public WorkerPool(List<String> addresses, Duration minInterval, Duration backoff) {
    this(addresses, minInterval, backoff, Duration.ofSeconds(2));
  }

  public WorkerPool(
      Collection<String> addresses,
      Duration minInterval,
      Duration backoff,
      Duration loadReportTimeout) {
    this(addresses, minInterval, backoff, loadReportTimeout, null);
  }

  /**
   * @param loops the HTTP server's event loops: each worker gets one channel per loop (see {@link
   *     LoopChannels}); null: one channel per worker on gRPC's own transport threads
   */
  public WorkerPool(
      Collection<String> addresses,
      Duration minInterval,
      Duration backoff,
      Duration loadReportTimeout,
      LoopChannels.EventLoops loops) {
    this.loops = loops;
    this.minIntervalMs = (int) minInterval.toMillis();
    this.baseBackoffMs = Math.max(10, backoff.toMillis());
    this.silenceNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(50), loadReportTimeout.toNanos());
    for (String a : normalize(addresses)) {
      add(a);
    }
  }

  public WorkerPool start() {
    started = true;
    for (Watch w : watches.values()) {
      w.probe();
    }
    long tick = Math.max(10, TimeUnit.NANOSECONDS.toMillis(silenceNanos) / 4);
    timer.scheduleWithFixedDelay(this::check, tick, tick, TimeUnit.MILLISECONDS);
    return this;
  }

  /** A live view, in the order workers were added. */
  public List<WorkerEndpoint> workers() {
    return workers;
  }

  /** Makes the pool hold exactly these "host:port" workers (discovery calls this on change). */
  public synchronized void setAddresses(Collection<String> addresses) {
    Set<String> want = normalize(addresses);
    for (String a : want) {
      if (!watches.containsKey(a)) {
        log.info("worker {} discovered", a);
        Watch w = add(a);
        if (started) {
          w.probe();
        }
      }
    }
    for (String a : new ArrayList<>(watches.keySet())) {
      if (!want.contains(a)) {
        log.info("worker {} removed", a);
        Watch w = watches.remove(a);
        workers.remove(w.endpoint);
        w.stop();
      }
    }
  }

  private static Set<String> normalize(Collection<String> addresses) {
    Set<String> out = new LinkedHashSet<>();
    for (String a : addresses) {
      String addr = a.strip();
      if (addr.isEmpty()) {
        continue;
      }
      int colon = addr.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("worker address '" + addr + "' is not host:port");
      }
      Integer.parseInt(addr.substring(colon + 1));
      out.add(addr);
    }
    return out;
  }

  private Watch add(String addr) {
    WorkerEndpoint e = new WorkerEndpoint(addr, LoopChannels.connect(addr, loops, 16 << 20));
    Watch w = new Watch(e);
    watches.put(addr, w);
    workers.add(e);
    return w;
  }

  private void check() {
    try {
      long now = System.nanoTime();
      for (Watch w : watches.values()) {
        w.check(now);
      }
    } catch (RuntimeException e) {
      log.warn("worker health check failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    for (Watch w : watches.values()) {
      w.stop();
    }
  }

  /** The load streams of one worker: the live one and at most one probe (a fresh subscription). */
  private final class Watch {
    final WorkerEndpoint endpoint;
    private ClientCallStreamObserver<?> live;
    private ClientCallStreamObserver<?> probe;
    private long probeStarted;
    private long lastHeard = System.nanoTime();
    private long backoffMs = baseBackoffMs;
    private boolean reconnectScheduled;
    private boolean stopped;

    Watch(WorkerEndpoint endpoint) {
      this.endpoint = endpoint;
    }

    /** Opens a fresh WatchLoad stream; its first report promotes it to the live one. */
    synchronized void probe() {
      reconnectScheduled = false;
      if (stopped || closed || probe != null) {
        return;
      }
      probeStarted = System.nanoTime();
      endpoint
          .mainStub()
          .watchLoad(
              WatchLoadRequest.newBuilder().setMinIntervalMs(minIntervalMs).build(),
              new Observer());
    }

    synchronized void check(long now) {
      if (stopped) {
        return;
      }
      if (probe != null && now - probeStarted > silenceNanos) {
        cancel(probe);
        probe = null;
        failed(
            "no load report within "
                + TimeUnit.NANOSECONDS.toMillis(silenceNanos)
                + " ms of subscribing (hung worker?)");
      } else if (probe == null && live != null && now - lastHeard > silenceNanos) {
        probe();
      }
    }

    private final class Observer implements ClientResponseObserver<WatchLoadRequest, LoadReport> {
      private ClientCallStreamObserver<WatchLoadRequest> call;

      @Override
      public void beforeStart(ClientCallStreamObserver<WatchLoadRequest> c) {
        call = c;
        probe = c; // beforeStart runs inside probe(), which holds the lock
      }

      @Override
      public void onNext(LoadReport r) {
        synchronized (Watch.this) {
          if (stopped) {
            cancel(call);
            return;
          }
          if (call == probe) {
            probe = null;
            if (live != null) {
              cancel(live);
            }
            live = call;
          } else if (call != live) {
            cancel(call);
            return;
          }
          lastHeard = System.nanoTime();
          backoffMs = baseBackoffMs;
          boolean wasDown = endpoint.load() == null;
          endpoint.load(r);
          if (wasDown) {
            log.info(
                "worker {} up: model {} state {}", endpoint.address(), r.getModel(), r.getState());
            fetchInfo();
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        ended(t.toString());
      }

      @Override
      public void onCompleted() {
        ended("load stream closed");
      }

      private void ended(String why) {
        synchronized (Watch.this) {
          if (call == probe) {
            probe = null;
            if (live != null) {
              cancel(live);
              live = null;
            }
            failed(why);
          } else if (call == live) {
            live = null;
            if (probe == null) {
              failed(why);
            }
          }
        }
      }
    }

    /** The worker is not usable: no traffic, reconnect with backoff. Holds the lock. */
    private void failed(String why) {
      if (live != null) {
        cancel(live);
        live = null;
      }
      boolean wasUp = endpoint.load() != null;
      endpoint.load(null);
      if (wasUp) {
        log.warn("worker {} down: {}", endpoint.address(), why);
      }
      if (stopped || closed || reconnectScheduled || !started) {
        return;
      }
      long delay = wasUp ? baseBackoffMs : backoffMs;
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      reconnectScheduled = true;
      try {
        timer.schedule(this::probe, delay, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing
      }
    }

    private void fetchInfo() {
      endpoint
          .mainStub()
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .getInfo(
              GetInfoRequest.getDefaultInstance(),
              new io.grpc.stub.StreamObserver<>() {
                @Override
                public void onNext(WorkerInfo info) {
                  endpoint.modelInfo(info.getModel());
                  endpoint.sendsAccepted(info.getCapabilitiesList().contains("accepted"));
                }

                @Override
                public void onError(Throwable t) {
                  // load reports still name the model; GetInfo only adds detail
                }

                @Override
                public void onCompleted() {}
              });
    }

    synchronized void stop() {
      stopped = true;
      cancel(live);
      cancel(probe);
      live = null;
      probe = null;
      endpoint.load(null);
      // in-flight calls finish; new ones are refused by the channel
      List<ManagedChannel> chs = endpoint.channels();
      if (closed) {
        chs.forEach(ManagedChannel::shutdownNow);
        return;
      }
      chs.forEach(ManagedChannel::shutdown);
      try {
        timer.schedule(() -> chs.forEach(ManagedChannel::shutdownNow), 30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        chs.forEach(ManagedChannel::shutdownNow);
      }
    }

    private void cancel(ClientCallStreamObserver<?> c) {
      if (c != null) {
        try {
          c.cancel("replaced", null);
        } catch (RuntimeException e) {
          // already closed
        }
      }
    }
  }
}
