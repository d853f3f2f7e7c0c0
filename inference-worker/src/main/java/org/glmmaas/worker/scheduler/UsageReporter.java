package org.glmmaas.worker.scheduler;

import java.time.Instant;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.glmmaas.worker.usage.UsageSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one usage event per finished request that consumed engine work. Requests that never
 * reached the engine (cancelled or refused while queued) and internal ones are not billed.
 */
public final class UsageReporter implements Scheduler.FinishListener {

  private static final Logger log = LoggerFactory.getLogger(UsageReporter.class);

  private final UsageSink sink;
  private final String workerId;

  public UsageReporter(UsageSink sink, String workerId) {
    this.sink = sink;
    this.workerId = workerId;
  }

  @Override
  public void onFinished(Request request, FinishInfo finish, Instant end) {
    if (!finish.consumedEngineWork() || !request.metadata().billable()) {
      return;
    }
    RequestMetadata m = request.metadata();
    UsageEvent event =
        UsageEvent.newBuilder()
            .setRequestId(request.requestId())
            .setTenantId(m.tenantId())
            .setKeyId(m.keyId())
            .setModel(m.model())
            .setPromptTokens(finish.numPromptTokens())
            .setCachedTokens(finish.numCachedTokens())
            .setCompletionTokens(finish.numCompletionTokens())
            .setFinishReason(finish.reason().label())
            .setWorkerId(workerId)
            .setStartTimeUnixMs(request.arrivalTime().toEpochMilli())
            .setEndTimeUnixMs(end.toEpochMilli())
            .setTraceId(m.traceId())
            .setUserId(m.userId())
            .setNumPreemptions(finish.timings().numPreemptions())
            .setBatchId(m.batchId())
            .build();
    try {
      sink.publish(event);
    } catch (RuntimeException e) {
      log.error(
          "usage sink refused the event of request {}: {}", request.requestId(), e.toString());
    }
  }
}
