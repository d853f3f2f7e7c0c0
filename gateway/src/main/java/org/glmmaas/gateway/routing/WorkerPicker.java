package org.glmmaas.gateway.routing;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.glmmaas.gateway.error.GlmError;
import org.glmmaas.gateway.error.GlmException;

/**
 * Chooses a worker for a request among those serving its model and READY: the least loaded one,
 * unless the worker that the request's affinity key prefers (rendezvous hashing of tenant + prompt
 * prefix) is within {@code slack} load units of it — then that one, so a tenant's shared prefixes
 * keep hitting one worker's prefix cache while it is not overloaded.
 */
public final class WorkerPicker {

  private final List<WorkerEndpoint> workers;
  private final double slack;

  public WorkerPicker(List<WorkerEndpoint> workers, double slack) {
    this.workers = workers;
    this.slack = slack;
  }

  public List<WorkerEndpoint> workers() {
    return workers;
  }

  /** Throws ModelNotFound when no worker has ever served {@code model}. */
  public void checkModel(String model) {
    if (workers.isEmpty()) {
      throw new GlmException(
          new GlmError.Unavailable(
              "no inference workers are configured (glm.gateway.workers)", Duration.ofSeconds(5)));
    }
    for (WorkerEndpoint w : workers) {
      if (model.equals(w.lastModel())) {
        return;
      }
    }
    if (workers.stream().allMatch(w -> w.lastModel() == null)) {
      throw new GlmException(
          new GlmError.Unavailable(
              "no inference worker is reachable yet; retry shortly", Duration.ofSeconds(2)));
    }
    throw new GlmException(
        new GlmError.ModelNotFound(
            "model '"
                + sanitize(model)
                + "' does not exist or is not served here; see GET /v1/models"));
  }

  public WorkerEndpoint pick(String model, long affinity, Collection<WorkerEndpoint> excluded) {
    WorkerEndpoint least = null;
    WorkerEndpoint affine = null;
    double leastScore = Double.MAX_VALUE;
    long bestHash = Long.MIN_VALUE;
    for (WorkerEndpoint w : workers) {
      if (!w.ready() || excluded.contains(w) || !model.equals(w.load().getModel())) {
        continue;
      }
      double s = w.score();
      long h = mix(affinity ^ (w.address().hashCode() * 0x9E3779B97F4A7C15L));
      if (s < leastScore || (s == leastScore && h > hash(least, affinity))) {
        least = w;
        leastScore = s;
      }
      if (affine == null || h > bestHash) {
        affine = w;
        bestHash = h;
      }
    }
    if (least == null) {
      checkModel(model);
      throw new GlmException(
          new GlmError.Unavailable(
              "no worker serving model '" + sanitize(model) + "' is ready; retry shortly",
              Duration.ofSeconds(2)));
    }
    return affine.score() <= leastScore + slack ? affine : least;
  }

  private static long hash(WorkerEndpoint w, long affinity) {
    return w == null
        ? Long.MIN_VALUE
        : mix(affinity ^ (w.address().hashCode() * 0x9E3779B97F4A7C15L));
  }

  /** Murmur3's 64-bit finalizer. */
  static long mix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  static String sanitize(String s) {
    String c = s.replaceAll("[^\\x20-\\x7e]", "?");
    return c.length() > 64 ? c.substring(0, 64) + "..." : c;
  }
}
