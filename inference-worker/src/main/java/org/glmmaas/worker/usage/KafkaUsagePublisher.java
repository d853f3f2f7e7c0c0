package org.glmmaas.worker.usage;

import com.google.protobuf.InvalidProtocolBufferException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.proto.billing.v1.UsageEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production {@link UsageSink}: an idempotent Kafka producer (acks=all, key = tenant id, value =
 * UsageEvent bytes, W3C {@code traceparent} header when the event has a trace id) with a disk spool.
 *
 * <p>While Kafka answers, publish() hands the record to the producer and returns. When a record
 * cannot be delivered (no metadata within {@code max-block}, or no ack within
 * {@code delivery-timeout}) it is appended to the {@link UsageSpool} (fsync'd), and from then on
 * every publish() appends to the spool, so nothing overtakes the backlog. A resender thread sends
 * the spool oldest-first and switches back to direct sends once it is empty. A spool found at start
 * (a restart while Kafka was away) is re-sent the same way. If the spool is full the event is
 * refused with an ERROR log and {@code glm_usage_events_dropped_total} — never silently.
 */
public final class KafkaUsagePublisher implements UsageSink, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KafkaUsagePublisher.class);
  static final int RESEND_BATCH = 500;
  /** After this many failed resend attempts in a row the producer is rebuilt (fresh bootstrap). */
  static final int RENEW_AFTER_FAILURES = 3;

  private final Supplier<Producer<String, byte[]>> producers;
  private final UsageSpool spool;
  private final String topic;
  private final Duration resendInterval;
  private final Duration deliveryTimeout;
  private final Object lock = new Object();
  private final Counter published;
  private final Counter spooled;
  private final Counter resent;
  private final Counter dropped;
  private final Thread resender;
  private volatile Producer<String, byte[]> producer;
  private volatile boolean spooling;
  private volatile boolean closed;
  private int consecutiveFailures;

  public KafkaUsagePublisher(Supplier<Producer<String, byte[]>> producers, UsageSpool spool, String topic,
      Duration deliveryTimeout, Duration resendInterval, MeterRegistry meters) {
    this.producers = producers;
    this.producer = producers.get();
    this.spool = spool;
    this.topic = topic;
    this.deliveryTimeout = deliveryTimeout;
    this.resendInterval = resendInterval;
    this.published = Counter.builder("glm.usage.events.published")
        .description("Usage events acknowledged by Kafka on the first try").register(meters);
    this.spooled = Counter.builder("glm.usage.events.spooled")
        .description("Usage events written to the disk spool because Kafka was unreachable").register(meters);
    this.resent = Counter.builder("glm.usage.events.resent")
        .description("Spooled usage events later acknowledged by Kafka").register(meters);
    this.dropped = Counter.builder("glm.usage.events.dropped")
        .description("Usage events refused because the spool was full (lost revenue)").register(meters);
    Gauge.builder("glm.usage.spool.bytes", spool, UsageSpool::bytes)
        .description("Bytes in the usage spool").register(meters);
    this.spooling = !spool.isEmpty();
    if (spooling) {
      log.info("Usage spool holds {} events from an earlier run; re-sending them", spool.pendingRecords());
    }
    this.resender = Thread.ofPlatform().name("usage-resender").daemon().start(this::resendLoop);
  }

  /**
   * The production wiring: an idempotent producer built from the properties.
   *
   * @param fallbackBootstrapServers used when {@code glm.worker.usage.bootstrap-servers} is empty
   */
  public static KafkaUsagePublisher create(UsageProperties props, String fallbackBootstrapServers,
      MeterRegistry meters) {
    String servers = props.bootstrapServers().isBlank() ? fallbackBootstrapServers : props.bootstrapServers();
    if (servers == null || servers.isBlank()) {
      throw new IllegalArgumentException(
          "set glm.worker.usage.bootstrap-servers or spring.kafka.bootstrap-servers");
    }
    Map<String, Object> config = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5,
        ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) props.maxBlock().toMillis(),
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) props.deliveryTimeout().toMillis(),
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        (int) Math.min(props.deliveryTimeout().toMillis() - 10, 30_000),
        ProducerConfig.CLIENT_ID_CONFIG, "glm-worker-usage");
    UsageSpool spool = new UsageSpool(props.spoolDir(), props.spoolMaxSize().toBytes(),
        props.spoolSegmentSize().toBytes());
    return new KafkaUsagePublisher(
        () -> new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer()),
        spool, props.topic(), props.deliveryTimeout(), props.resendInterval(), meters);
  }

  @Override
  public void publish(UsageEvent event) {
    byte[] value = event.toByteArray();
    synchronized (lock) {
      if (spooling || closed) {
        toSpool(value);
        return;
      }
    }
    try {
      producer.send(record(event, value), (meta, error) -> {
        if (error == null) {
          published.increment();
        } else {
          failedDirect(value, error);
        }
      });
    } catch (RuntimeException e) {   // e.g. producer closed, serialization, buffer exhausted
      failedDirect(value, e);
    }
  }

  private void failedDirect(byte[] value, Exception error) {
    synchronized (lock) {
      if (!spooling) {
        log.warn("Kafka unreachable for usage events ({}); spooling to disk", error.toString());
        spooling = true;
        lock.notifyAll();
      }
      toSpool(value);
    }
  }

  private void toSpool(byte[] value) {
    try {
      spool.append(value);
      spooled.increment();
    } catch (SpoolFullException | IllegalStateException | java.io.UncheckedIOException e) {
      dropped.increment();
      log.error("USAGE EVENT LOST: cannot spool ({}); {} bytes of unbilled usage refused. "
          + "Restore Kafka or raise glm.worker.usage.spool-max-size", e.getMessage(), value.length);
    }
  }

  private ProducerRecord<String, byte[]> record(UsageEvent event, byte[] value) {
    ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, event.getTenantId(), value);
    String trace = event.getTraceId();
    if (trace.length() == 32 && trace.matches("[0-9a-f]{32}") && !trace.matches("0+")) {
      byte[] span = new byte[8];
      ThreadLocalRandom.current().nextBytes(span);
      span[0] |= 1;   // never all-zero
      r.headers().add("traceparent", ("00-" + trace + "-" + HexFormat.of().formatHex(span) + "-01")
          .getBytes(StandardCharsets.US_ASCII));
    }
    return r;
  }

  private void resendLoop() {
    while (!closed) {
      try {
        synchronized (lock) {
          while (!spooling && !closed) {
            lock.wait();
          }
        }
        if (closed) {
          return;
        }
        if (!resendBatch()) {
          Thread.sleep(resendInterval.toMillis());
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("Usage resend failed: {}", e.toString());
        sleepQuietly();
      }
    }
  }

  /** Sends one batch of the spool in order; true when it was delivered (or the spool emptied). */
  private boolean resendBatch() throws InterruptedException {
    List<UsageSpool.Entry> batch = spool.peek(RESEND_BATCH);
    if (batch.isEmpty()) {
      synchronized (lock) {
        if (spool.isEmpty()) {
          spooling = false;
          log.info("Usage spool drained; publishing directly to Kafka again");
        }
      }
      return true;
    }
    try {
      // the oldest record goes alone first: only once Kafka acked it (metadata known, broker up)
      // are the others pipelined, so a half-failed batch cannot put later events before it
      send(batch.getFirst()).get(deliveryTimeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      List<Future<?>> acks = new ArrayList<>(batch.size());
      for (UsageSpool.Entry e : batch.subList(1, batch.size())) {
        acks.add(send(e));
      }
      for (Future<?> f : acks) {
        f.get(deliveryTimeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      }
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
      Throwable cause = ex.getCause() == null ? ex : ex.getCause();
      log.debug("Usage spool resend not acknowledged yet: {}", cause.toString());
      consecutiveFailures++;
      boolean fatal = !(cause instanceof RetriableException)
          && !(ex instanceof java.util.concurrent.TimeoutException);
      if (fatal || consecutiveFailures % RENEW_AFTER_FAILURES == 0) {
        // a fatal producer state, or brokers that stay unreachable at the addresses the producer
        // last learned (e.g. restarted elsewhere): start over from the bootstrap servers
        renewProducer(cause);
      }
      return false;
    }
    consecutiveFailures = 0;
    spool.ack(batch.getLast().next(), batch.size());
    resent.increment(batch.size());
    return true;
  }

  private Future<?> send(UsageSpool.Entry e) {
    UsageEvent event;
    try {
      event = UsageEvent.parseFrom(e.payload());
    } catch (InvalidProtocolBufferException ex) {
      event = UsageEvent.getDefaultInstance();   // cannot happen: we wrote it; billing dead-letters it
    }
    return producer.send(record(event, e.payload()));
  }

  /** Replaces the producer; records still in the old one fail into the spool through their callbacks. */
  private void renewProducer(Throwable cause) {
    log.warn("Recreating the usage producer after {} failed resend attempts ({})", consecutiveFailures,
        cause.toString());
    Producer<String, byte[]> old = producer;
    producer = producers.get();
    old.close(Duration.ZERO);
  }

  private void sleepQuietly() {
    try {
      Thread.sleep(resendInterval.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Events waiting in the spool. */
  public long spooledPending() {
    return spool.pendingRecords();
  }

  /**
   * Flushes what the producer holds (waiting up to the delivery timeout); records it cannot deliver
   * land in the spool through their callbacks, so a graceful stop loses nothing.
   */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    resender.interrupt();
    try {
      resender.join(deliveryTimeout.toMillis() + 5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(deliveryTimeout.plusSeconds(1));
    spool.close();
  }
}
