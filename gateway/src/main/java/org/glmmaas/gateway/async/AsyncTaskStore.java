package org.glmmaas.gateway.async;

import reactor.core.publisher.Mono;

/** Where async task states live so that they survive a gateway restart. */
public interface AsyncTaskStore {

  Mono<Void> put(AsyncTask task);

  /** The tenant's task with this id, or empty (also when it belongs to another tenant). */
  Mono<AsyncTask> get(String tenantId, String id);
}
