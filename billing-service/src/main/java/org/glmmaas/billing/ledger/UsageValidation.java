package org.glmmaas.billing.ledger;

import java.util.Optional;
import org.glmmaas.proto.billing.v1.UsageEvent;

/**
 * Decides whether a decoded usage event can be billed; an invalid one goes to the dead-letter
 * topic.
 */
public final class UsageValidation {

  static final int MAX_ID_LENGTH = 200;

  private UsageValidation() {}

  /** Empty when the event is billable, else why not. */
  public static Optional<String> problem(UsageEvent e) {
    if (e.getRequestId().isBlank() || e.getRequestId().length() > MAX_ID_LENGTH) {
      return Optional.of("request_id must be 1-" + MAX_ID_LENGTH + " characters");
    }
    if (e.getTenantId().isBlank() || e.getTenantId().length() > MAX_ID_LENGTH) {
      return Optional.of("tenant_id must be 1-" + MAX_ID_LENGTH + " characters");
    }
    if (e.getModel().isBlank() || e.getModel().length() > MAX_ID_LENGTH) {
      return Optional.of("model must be 1-" + MAX_ID_LENGTH + " characters");
    }
    if (e.getKeyId().length() > MAX_ID_LENGTH
        || e.getWorkerId().length() > MAX_ID_LENGTH
        || e.getFinishReason().length() > 64
        || e.getTraceId().length() > 64) {
      return Optional.of("key_id, worker_id, finish_reason or trace_id too long");
    }
    if (e.getPromptTokens() < 0 || e.getCachedTokens() < 0 || e.getCompletionTokens() < 0) {
      return Optional.of("token counts must not be negative");
    }
    if (e.getCachedTokens() > e.getPromptTokens()) {
      return Optional.of("cached_tokens must not exceed prompt_tokens");
    }
    if (e.getStartTimeUnixMs() < 0 || e.getEndTimeUnixMs() < 0) {
      return Optional.of("times must not be negative");
    }
    return Optional.empty();
  }
}
