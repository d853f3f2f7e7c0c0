package org.glmmaas.billing.support;

import org.glmmaas.proto.billing.v1.UsageEvent;

/** Usage events as a worker would publish them. */
public final class Events {

  private Events() {}

  public static UsageEvent usage(
      String requestId,
      String tenant,
      String model,
      String key,
      int prompt,
      int cached,
      int completion) {
    long now = System.currentTimeMillis();
    return UsageEvent.newBuilder()
        .setRequestId(requestId)
        .setTenantId(tenant)
        .setKeyId(key)
        .setModel(model)
        .setPromptTokens(prompt)
        .setCachedTokens(cached)
        .setCompletionTokens(completion)
        .setFinishReason("stop")
        .setWorkerId("worker-test")
        .setStartTimeUnixMs(now - 1000)
        .setEndTimeUnixMs(now)
        .build();
  }

  /** The cost by the documented rule, written out independently of the production code. */
  public static long expectedCost(
      long input, long cachedInput, long output, int prompt, int cached, int completion) {
    long micros = (prompt - cached) * input + cached * cachedInput + completion * output;
    return (micros + 999_999) / 1_000_000;
  }
}
