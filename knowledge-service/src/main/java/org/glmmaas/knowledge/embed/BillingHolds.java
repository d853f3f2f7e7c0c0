package org.glmmaas.knowledge.embed;

/**
 * Balance holds on embedding calls (billing-service's Reserve/Release), as the gateway takes them
 * for chat: the price of a call's tokens, counted high, is held before the call and settled by the
 * worker's usage event with the same request id. Reserve is idempotent per request id, so the
 * re-run of an indexing batch after a crash finds its hold (or its settled usage) again.
 */
public interface BillingHolds {

  /**
   * Holds the price of {@code promptTokens} embedding tokens of {@code model}.
   *
   * @return false when the tenant's balance cannot cover it
   * @throws Embedder.UnavailableException when billing does not answer
   */
  boolean reserve(String requestId, String tenantId, String model, int promptTokens);

  /** Gives back a hold that will never be settled (the call failed for good). */
  void release(String requestId, String tenantId);

  /**
   * Whether the tenant has any balance left (an upload is refused at once when not: its indexing
   * could not be paid). True when billing does not answer: the holds still refuse later.
   */
  default boolean hasBalance(String tenantId) {
    return true;
  }

  /** No holds (no billing configured, e.g. a standalone knowledge-service in tests). */
  BillingHolds NONE =
      new BillingHolds() {
        @Override
        public boolean reserve(String requestId, String tenantId, String model, int promptTokens) {
          return true;
        }

        @Override
        public void release(String requestId, String tenantId) {}
      };
}
