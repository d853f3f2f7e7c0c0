package org.glmmaas.worker.config;

import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.worker.usage.UsageSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fallback usage sink when no publisher (Kafka) is configured: logs each event's counts (no
 * prompt text) so nothing is silently lost from view, and says loudly that billing gets nothing.
 */
public final class LoggingUsageSink implements UsageSink {

  private static final Logger log = LoggerFactory.getLogger(LoggingUsageSink.class);

  public LoggingUsageSink() {
    log.warn(
        "no UsageSink bean: usage events are NOT published to Kafka, only logged (billing will not see them)");
  }

  @Override
  public void publish(UsageEvent e) {
    log.info(
        "usage request={} tenant={} model={} prompt={} cached={} completion={} finish={} preemptions={}",
        e.getRequestId(),
        e.getTenantId(),
        e.getModel(),
        e.getPromptTokens(),
        e.getCachedTokens(),
        e.getCompletionTokens(),
        e.getFinishReason(),
        e.getNumPreemptions());
  }
}
