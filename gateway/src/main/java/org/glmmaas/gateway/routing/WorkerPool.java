package org.glmmaas.gateway.routing;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * The workers of the static list, each watched through one WatchLoad stream. A broken stream marks
 * the worker down at once (no traffic goes there) and is re-opened with backoff.
 */
public final class WorkerPool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
  private static final long MAX_BACKOFF_MS = 5000;

  private final List<WorkerEndpoint> workers = new ArrayList<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().daemon().name("worker-watch").factory());
  private final int minIntervalMs;
  private final long baseBackoffMs;
  private volatile boolean closed;

  public WorkerPool(List<String> addresses, Duration minInterval, Duration backoff) {
    this.minIntervalMs = (int) minInterval.toMillis();
    this.baseBackoffMs = Math.max(10, backoff.toMillis());
    for (String a : addresses) {
      String addr = a.strip();
      if (addr.isEmpty()) {
        continue;
      }
      int colon = addr.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("glm.gateway.workers entry '" + addr
            + "' is not host:port");
      }
      ManagedChannel ch = Grpc.newChannelBuilderForAddress(addr.substring(0, colon),
              Integer.parseInt(addr.substring(colon + 1)), InsecureChannelCredentials.create())
          .maxInboundMessageSize(16 << 20)
          .build();
      workers.add(new WorkerEndpoint(addr, ch));
    }
  }

  public WorkerPool start() {
    for (WorkerEndpoint w : workers) {
      watch(w, baseBackoffMs);
    }
    return this;
  }

  public List<WorkerEndpoint> workers() {
    return workers;
  }

  private void watch(WorkerEndpoint w, long backoff) {
    if (closed) {
      return;
    }
    w.stub().getInfo(GetInfoRequest.getDefaultInstance(), new io.grpc.stub.StreamObserver<>() {
      @Override public void onNext(WorkerInfo info) {
        w.modelInfo(info.getModel());
      }

      @Override public void onError(Throwable t) {
        // load reports still name the model; GetInfo only adds detail
      }

      @Override public void onCompleted() {}
    });
    w.stub().watchLoad(WatchLoadRequest.newBuilder().setMinIntervalMs(minIntervalMs).build(),
        new ClientResponseObserver<WatchLoadRequest, LoadReport>() {
          boolean seen;

          @Override public void beforeStart(ClientCallStreamObserver<WatchLoadRequest> s) {}

          @Override public void onNext(LoadReport r) {
            if (!seen) {
              seen = true;
              log.info("worker {} up: model {} state {}", w.address(), r.getModel(),
                  r.getState());
            }
            w.load(r);
          }

          @Override public void onError(Throwable t) {
            down(t.toString());
          }

          @Override public void onCompleted() {
            down("load stream closed");
          }

          private void down(String why) {
            boolean wasUp = w.load() != null;
            w.load(null);
            if (wasUp) {
              log.warn("worker {} down: {}", w.address(), why);
            }
            long next = seen ? baseBackoffMs : Math.min(MAX_BACKOFF_MS, backoff * 2);
            if (!closed) {
              timer.schedule(() -> watch(w, next), seen ? baseBackoffMs : backoff,
                  TimeUnit.MILLISECONDS);
            }
          }
        });
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    for (WorkerEndpoint w : workers) {
      w.channel().shutdownNow();
    }
  }
}
