package org.glmmaas.knowledge.embed;

import java.util.List;

/** Turns texts into unit-length vectors with an embedding model (the workers' Embed RPC). */
public interface Embedder {

  /**
   * @param requestId the usage event's idempotency key: the same id for a re-run of the same work
   *     is billed once
   * @param caller tenant, key and end user the usage is billed to
   */
  Result embed(String model, List<String> texts, String requestId, Caller caller);

  record Caller(String tenantId, String keyId, String userId) {}

  record Result(List<float[]> vectors, int promptTokens) {}

  /** The model cannot embed (unknown, a chat model) or refused an input: the job fails for good. */
  final class RefusedException extends RuntimeException {
    public RefusedException(String message) {
      super(message, null, false, false);
    }
  }

  /** No worker answered: the job waits and retries. */
  final class UnavailableException extends RuntimeException {
    public UnavailableException(String message) {
      super(message, null, false, false);
    }
  }
}
