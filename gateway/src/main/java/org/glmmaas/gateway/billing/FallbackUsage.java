package org.glmmaas.gateway.billing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage events the gateway sends itself, for a worker stream that ended without {@code Finished}
 * after tokens had been forwarded (the worker died mid-stream and will never report them). They go
 * to the usage topic under the worker request's own id, so the ledger bills a request once
 * whichever of the worker's event and this one comes first. Without Kafka configured they cannot be
 * sent: each is logged (request and tenant ids only) and counted as dropped.
 */
public final class FallbackUsage implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FallbackUsage.class);
  public static final String TOPIC = "glm.usage.v1";

  private final KafkaProducer<String, byte[]> producer;
  private final Counter sent;
  private final Counter dropped;

  /**
   * @param bootstrap Kafka bootstrap servers; null: events are logged and dropped
   */
  public FallbackUsage(String bootstrap, MeterRegistry meters) {
    this.producer =
        bootstrap == null
            ? null
            : new KafkaProducer<>(
                Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    bootstrap,
                    ProducerConfig.ACKS_CONFIG,
                    "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                    true,
                    ProducerConfig.MAX_BLOCK_MS_CONFIG,
                    10_000),
                new StringSerializer(),
                new ByteArraySerializer());
    this.sent =
        Counter.builder("glm.gateway.usage.fallback")
            .tag("result", "sent")
            .description("Usage events the gateway sent for streams that ended without Finished")
            .register(meters);
    this.dropped =
        Counter.builder("glm.gateway.usage.fallback")
            .tag("result", "dropped")
            .description("Usage events the gateway sent for streams that ended without Finished")
            .register(meters);
  }

  /** Sends {@code e} asynchronously (never blocks the caller). */
  public void publish(UsageEvent e) {
    log.warn(
        "worker stream of request {} (tenant {}) ended without Finished after {} tokens; billing"
            + " them from the gateway",
        e.getRequestId(),
        e.getTenantId(),
        e.getCompletionTokens());
    if (producer == null) {
      dropped.increment();
      log.error(
          "no Kafka configured (spring.kafka.bootstrap-servers): usage of request {} cannot be"
              + " billed",
          e.getRequestId());
      return;
    }
    // send() may block for metadata (up to max.block.ms) when Kafka is slow or down: never on the
    // caller's thread, which is an event loop
    Thread.ofVirtual()
        .name("fallback-usage")
        .start(
            () -> {
              try {
                producer.send(
                    new ProducerRecord<>(TOPIC, e.getTenantId(), e.toByteArray()),
                    (md, ex) -> {
                      if (ex != null) {
                        dropped.increment();
                        log.error(
                            "sending the fallback usage of request {} failed",
                            e.getRequestId(),
                            ex);
                      } else {
                        sent.increment();
                      }
                    });
              } catch (RuntimeException ex) {
                dropped.increment();
                log.error("sending the fallback usage of request {} failed", e.getRequestId(), ex);
              }
            });
  }

  /**
   * Sends {@code e} (a batch line's usage, a copy of the worker's own event under the same request
   * id) and waits until the broker has it; false when it could not be sent (no Kafka, or an error).
   * Blocks: never call it on an event loop.
   */
  public boolean sendAndWait(UsageEvent e, java.time.Duration timeout) {
    if (producer == null) {
      return false;
    }
    try {
      producer
          .send(new ProducerRecord<>(TOPIC, e.getTenantId(), e.toByteArray()))
          .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception ex) {
      log.warn("sending the usage of batch request {} failed: {}", e.getRequestId(), ex.toString());
      return false;
    }
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(10));
    }
  }
}
