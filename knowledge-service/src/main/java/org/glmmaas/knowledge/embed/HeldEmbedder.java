package org.glmmaas.knowledge.embed;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An {@link Embedder} that holds the call's price on the tenant's balance first: refused when the
 * balance cannot cover it ({@link InsufficientBalanceException}), released when the call fails for
 * good. A call that fails for now (no worker) keeps its hold when {@code keepHoldForRetry}
 * (indexing: the retry uses the same request id and finds it again) and releases it otherwise
 * (retrieve: the next call has a new id).
 */
public final class HeldEmbedder implements Embedder {

  private final Embedder delegate;
  private final BillingHolds holds;
  private final boolean keepHoldForRetry;

  public HeldEmbedder(Embedder delegate, BillingHolds holds, boolean keepHoldForRetry) {
    this.delegate = delegate;
    this.holds = holds;
    this.keepHoldForRetry = keepHoldForRetry;
  }

  /**
   * Tokens held for {@code texts}, counted high as the gateway's embeddings route does: one per
   * UTF-8 byte plus 2 per input (no tokenizer here; the usage event bills the worker's count).
   */
  static int holdTokens(List<String> texts) {
    long n = 0;
    for (String t : texts) {
      n += t.getBytes(StandardCharsets.UTF_8).length + 2L;
    }
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  @Override
  public Result embed(String model, List<String> texts, String requestId, Caller caller) {
    if (!holds.reserve(requestId, caller.tenantId(), model, holdTokens(texts))) {
      throw new InsufficientBalanceException(
          "the account balance cannot cover the embedding of "
              + texts.size()
              + (texts.size() == 1 ? " text" : " texts")
              + " with "
              + model
              + "; please top up");
    }
    try {
      return delegate.embed(model, texts, requestId, caller);
    } catch (UnavailableException e) {
      if (!keepHoldForRetry) {
        holds.release(requestId, caller.tenantId());
      }
      throw e;
    } catch (RuntimeException e) {
      holds.release(requestId, caller.tenantId());
      throw e;
    }
  }

  /** The tenant's balance cannot cover the embedding call: nothing was embedded or billed. */
  public static final class InsufficientBalanceException extends RuntimeException {
    public InsufficientBalanceException(String message) {
      super(message, null, false, false);
    }
  }
}
