package org.glmmaas.gateway.routing;

import io.grpc.ManagedChannel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.glmmaas.proto.inference.v1.InferenceServiceGrpc;
import org.glmmaas.proto.inference.v1.LoadReport;
import org.glmmaas.proto.inference.v1.ModelInfo;
import org.glmmaas.proto.inference.v1.WorkerState;

/**
 * One worker as this gateway sees it: its channels, its latest load report (null while its load
 * stream is down) and the requests this gateway has in flight on it (reports lag behind those).
 * Calls go out on the channel of the calling thread's event loop ({@link LoopChannels}); channel 0
 * also carries the load stream.
 */
public final class WorkerEndpoint {

  private final String address;
  private final LoopChannels channels;
  private final InferenceServiceGrpc.InferenceServiceStub[] stubs;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile LoadReport load;
  private volatile ModelInfo modelInfo;
  private volatile String lastModel;
  private volatile long quarantinedUntilNanos = System.nanoTime();
  private volatile boolean sendsAccepted;
  private volatile long lastProgressNanos = System.nanoTime() - PROGRESS_GRAIN_NANOS;

  /** Progress marks closer together than this are one mark (a volatile write per token saved). */
  private static final long PROGRESS_GRAIN_NANOS = 50_000_000L;

  WorkerEndpoint(String address, LoopChannels channels) {
    this.address = address;
    this.channels = channels;
    this.stubs = new InferenceServiceGrpc.InferenceServiceStub[channels.size()];
    for (int i = 0; i < stubs.length; i++) {
      stubs[i] = InferenceServiceGrpc.newStub(channels.get(i));
    }
  }

  public String address() {
    return address;
  }

  List<ManagedChannel> channels() {
    return channels.all();
  }

  /** The stub of the channel on the calling thread's event loop, else channel 0's. */
  public InferenceServiceGrpc.InferenceServiceStub stub() {
    return stubs[channels.index()];
  }

  /** Channel 0's stub: long-lived streams (load reports) and calls from outside the loops. */
  InferenceServiceGrpc.InferenceServiceStub mainStub() {
    return stubs[0];
  }

  public LoadReport load() {
    return load;
  }

  void load(LoadReport r) {
    this.load = r;
    if (r != null && !r.getModel().isEmpty()) {
      lastModel = r.getModel();
    }
  }

  /** The model this worker served last time it was seen (kept while it is down). */
  public String lastModel() {
    return lastModel;
  }

  public ModelInfo modelInfo() {
    return modelInfo;
  }

  void modelInfo(ModelInfo m) {
    this.modelInfo = m;
    if (m != null && !m.getId().isEmpty()) {
      lastModel = m.getId();
    }
  }

  /** True while its load stream is up, it reports READY, and it is not quarantined. */
  public boolean ready() {
    LoadReport r = load;
    return r != null
        && r.getState() == WorkerState.READY
        && System.nanoTime() - quarantinedUntilNanos >= 0;
  }

  /** Takes the worker out of routing for {@code d} (it stalled before a first token). */
  void quarantine(java.time.Duration d) {
    quarantinedUntilNanos = System.nanoTime() + d.toNanos();
  }

  /** Up (load stream alive) but out of routing after a stall. */
  /**
   * True once the worker is known to send {@code Accepted} when it begins a call (its GetInfo lists
   * the capability "accepted", or it sent one): the first-token timeout then starts there.
   */
  public boolean sendsAccepted() {
    return sendsAccepted;
  }

  void sendsAccepted(boolean b) {
    sendsAccepted = b;
  }

  /**
   * Records that the worker did something for one of this gateway's calls (accepted it, sent a
   * token, finished it) at {@code now} ({@link System#nanoTime}, the caller's own reading: one
   * clock read per token serves the call's stall watch and this mark): its engine is moving.
   */
  void progress(long now) {
    if (now - lastProgressNanos >= PROGRESS_GRAIN_NANOS) {
      lastProgressNanos = now;
    }
  }

  /**
   * True when the worker made progress on any of this gateway's calls since {@code nanos} ({@link
   * System#nanoTime}), give or take the marks' 50 ms grain.
   */
  boolean progressedSince(long nanos) {
    return lastProgressNanos - nanos + PROGRESS_GRAIN_NANOS > 0;
  }

  public boolean quarantined() {
    return System.nanoTime() - quarantinedUntilNanos < 0;
  }

  public int inFlight() {
    return inFlight.get();
  }

  void acquire() {
    inFlight.incrementAndGet();
  }

  void release() {
    inFlight.decrementAndGet();
  }

  /**
   * Routing load: a waiting request weighs 2, a running one 1, a full KV cache 4; requests this
   * gateway sent since count too, since reports trail them.
   */
  public double score() {
    LoadReport r = load;
    if (r == null) {
      return Double.MAX_VALUE;
    }
    double kv =
        r.getNumKvBlocksTotal() > 0
            ? 1.0 - (double) r.getNumKvBlocksFree() / r.getNumKvBlocksTotal()
            : 0;
    return 2.0 * r.getNumWaiting() + r.getNumRunning() + 4.0 * kv + inFlight.get();
  }

  public String workerId() {
    LoadReport r = load;
    return r != null && !r.getWorkerId().isEmpty() ? r.getWorkerId() : address;
  }

  @Override
  public String toString() {
    return address;
  }
}
