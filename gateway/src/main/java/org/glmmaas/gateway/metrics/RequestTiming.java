package org.glmmaas.gateway.metrics;

/**
 * Timing of one API call, kept in the exchange's attributes by {@link RequestMetricsFilter}: the
 * handlers note the model once it is known to be served (so the label stays low-cardinality) and
 * the time spent waiting on the worker, so the filter can record what the gateway itself added.
 */
public final class RequestTiming {

  public static final String ATTR = RequestTiming.class.getName();

  private final long startNanos;
  private volatile String model = "none";
  private volatile long workerStartNanos;
  private volatile long workerNanos = -1;

  public RequestTiming(long startNanos) {
    this.startNanos = startNanos;
  }

  public long startNanos() {
    return startNanos;
  }

  public String model() {
    return model;
  }

  /** Sets the model label; only for models a worker serves. */
  public void model(String served) {
    this.model = served;
  }

  /** The worker call starts (first attempt). */
  public void workerStarted(long nanos) {
    if (workerStartNanos == 0) {
      workerStartNanos = nanos;
    }
  }

  /** The worker's last response arrived (or the call failed). */
  public void workerEnded(long nanos) {
    if (workerStartNanos != 0 && workerNanos < 0) {
      workerNanos = nanos - workerStartNanos;
    }
  }

  /** Nanoseconds spent waiting on the worker; -1 if the call never reached one. */
  public long workerNanos() {
    return workerNanos;
  }
}
