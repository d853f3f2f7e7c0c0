package org.glmmaas.worker.usage;

import org.glmmaas.proto.billing.v1.UsageEvent;

/**
 * Where the scheduler hands a finished request's usage. Exactly one event per request that consumed
 * engine work. Implementations must not block the engine thread for long and must never lose an
 * accepted event (the Kafka implementation spools to disk when brokers are away).
 */
public interface UsageSink {

  void publish(UsageEvent event);
}
