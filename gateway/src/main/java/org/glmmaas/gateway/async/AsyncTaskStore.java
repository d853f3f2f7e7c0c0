package org.glmmaas.gateway.async;

import reactor.core.publisher.Mono;

/**
 * Where async task states live so that they survive a gateway restart. A task is kept for the
 * store's time-to-live after its last write (BigModel keeps results for a day); after that it reads
 * as absent and {@link #sweep()} deletes it.
 */
public interface AsyncTaskStore {

  Mono<Void> put(AsyncTask task);

  /** The tenant's live task with this id, or empty (also when it belongs to another tenant). */
  Mono<AsyncTask> get(String tenantId, String id);

  /** Deletes expired tasks; emits how many were removed. */
  Mono<Integer> sweep();
}
