package org.glmmaas.worker.usage;

import com.google.protobuf.InvalidProtocolBufferException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
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
 * The production {@link UsageSink}: an idempotent Kafka producer (acks=all, key = tenant id, value
 * = UsageEvent bytes, W3C {@code traceparent} header when the event has a trace id) behind a
 * write-ahead disk spool, so that no accepted event is lost, not even to a {@code kill -9}.
 *
 * <p>publish() appends the event to the {@link UsageSpool} (written to the file: it survives the
 * process dying from then on) and returns; it never waits for Kafka or for the disk. The {@code
 * usage-spool-sync} thread takes what was appended, forces it to disk with ONE fdatasync (group
 * commit) and only then hands the records to the producer. Each ack moves the spool's delivered
 * cursor over the acknowledged prefix; the cursor is persisted every {@value #CHECKPOINT_MILLIS}
 * ms. At start, records after the persisted cursor (unacknowledged, or acknowledged after the last
 * checkpoint) are re-sent in order: at least once out, and billing's unique request id makes it
 * exactly once in.
 *
 * <p>When a send fails (no metadata within {@code max-block}, no ack within {@code
 * delivery-timeout}) the publisher enters backlog mode: direct sends stop, every event waits in the
 * spool, and the {@code usage-resender} thread sends the spool oldest-first from the cursor,
 * switching back to direct sends once it is empty. If the spool is full the event is refused with
 * an ERROR log and {@code glm_usage_events_dropped_total} — never silently.
 */
public final class KafkaUsagePublisher implements UsageSink, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KafkaUsagePublisher.class);
  static final int RESEND_BATCH = 500;

  /** After this many failed resend attempts in a row the producer is rebuilt (fresh bootstrap). */
  static final int RENEW_AFTER_FAILURES = 3;

  /** How often the delivered cursor is persisted (the most a crash re-sends is this much). */
  static final long CHECKPOINT_MILLIS = 500;

  /** An event written ahead, waiting for its fsync and its send; {@code next} is what to ack. */
  private record Pending(UsageEvent event, byte[] value, UsageSpool.Position next, long epoch) {}

  /** A record handed to the producer on the direct path, in spool order. */
  private static final class InFlight {
    final UsageSpool.Position next;
    boolean acked;

    InFlight(UsageSpool.Position next) {
      this.next = next;
    }
  }

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
  private final Thread syncer;
  private final Thread resender;
  // guarded by lock: events appended on the direct path, not yet handed to the producer, and the
  // ones handed over, not yet acknowledged; both in spool order and together exactly the records
  // after the spool's cursor while !spooling
  private final ArrayDeque<Pending> toSend = new ArrayDeque<>();
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private long epoch; // bumped on every mode switch: callbacks of an older epoch no longer ack
  private volatile Producer<String, byte[]> producer;
  private volatile boolean spooling;
  private volatile boolean closed;
  private boolean
      closedSpool; // guarded by lock: late acks after close() are dropped (re-sent at start)
  private int consecutiveFailures;

  public KafkaUsagePublisher(
      Supplier<Producer<String, byte[]>> producers,
      UsageSpool spool,
      String topic,
      Duration deliveryTimeout,
      Duration resendInterval,
      MeterRegistry meters) {
    this.producers = producers;
    this.producer = producers.get();
    this.spool = spool;
    this.topic = topic;
    this.deliveryTimeout = deliveryTimeout;
    this.resendInterval = resendInterval;
    this.published =
        Counter.builder("glm.usage.events.published")
            .description("Usage events acknowledged by Kafka on the first try")
            .register(meters);
    this.spooled =
        Counter.builder("glm.usage.events.spooled")
            .description("Usage events held back in the disk spool because Kafka did not take them")
            .register(meters);
    this.resent =
        Counter.builder("glm.usage.events.resent")
            .description(
                "Usage events re-sent from the spool (backlog or left by a previous run) and acknowledged")
            .register(meters);
    this.dropped =
        Counter.builder("glm.usage.events.dropped")
            .description("Usage events refused because the spool was full (lost revenue)")
            .register(meters);
    Gauge.builder("glm.usage.spool.bytes", this, p -> p.spooling ? p.spool.pendingBytes() : 0)
        .description(
            "Bytes of usage events waiting in the spool for Kafka to come back (0 while Kafka takes them)")
        .register(meters);
    Gauge.builder("glm.usage.events.unacked", spool, UsageSpool::pendingRecords)
        .description("Usage events written ahead to the spool and not yet acknowledged by Kafka")
        .register(meters);
    this.spooling = !spool.isEmpty();
    if (spooling) {
      log.info(
          "Usage spool holds {} events not acknowledged by Kafka in an earlier run; re-sending them",
          spool.pendingRecords());
    }
    this.syncer = Thread.ofPlatform().name("usage-spool-sync").daemon().start(this::syncLoop);
    this.resender = Thread.ofPlatform().name("usage-resender").daemon().start(this::resendLoop);
  }

  /**
   * The production wiring: an idempotent producer built from the properties.
   *
   * @param fallbackBootstrapServers used when {@code glm.worker.usage.bootstrap-servers} is empty
   */
  public static KafkaUsagePublisher create(
      UsageProperties props, String fallbackBootstrapServers, MeterRegistry meters) {
    String servers =
        props.bootstrapServers().isBlank() ? fallbackBootstrapServers : props.bootstrapServers();
    if (servers == null || servers.isBlank()) {
      throw new IllegalArgumentException(
          "set glm.worker.usage.bootstrap-servers or spring.kafka.bootstrap-servers");
    }
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            servers,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
            5,
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.MAX_BLOCK_MS_CONFIG,
            (int) props.maxBlock().toMillis(),
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
            (int) props.deliveryTimeout().toMillis(),
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
            (int) Math.min(props.deliveryTimeout().toMillis() - 10, 30_000),
            ProducerConfig.CLIENT_ID_CONFIG,
            "glm-worker-usage");
    UsageSpool spool =
        new UsageSpool(
            props.spoolDir(), props.spoolMaxSize().toBytes(), props.spoolSegmentSize().toBytes());
    return new KafkaUsagePublisher(
        () -> new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer()),
        spool,
        props.topic(),
        props.deliveryTimeout(),
        props.resendInterval(),
        meters);
  }

  /**
   * Writes the event ahead to the spool and queues it for the sync thread. Returns in microseconds:
   * no Kafka call, no fsync. Once it returns the event survives the process being killed; within
   * one fsync (about a millisecond) it survives a host crash too.
   */
  @Override
  public void publish(UsageEvent event) {
    byte[] value = event.toByteArray();
    synchronized (lock) {
      UsageSpool.Position next;
      try {
        next = spool.append(value);
      } catch (SpoolFullException | IllegalStateException | java.io.UncheckedIOException e) {
        dropped.increment();
        log.error(
            "USAGE EVENT LOST: cannot spool ({}); {} bytes of unbilled usage refused. "
                + "Restore Kafka or raise glm.worker.usage.spool-max-size",
            e.getMessage(),
            value.length);
        return;
      }
      if (spooling || closed) {
        spooled.increment(); // the resender sends it, behind the backlog
        return;
      }
      toSend.add(new Pending(event, value, next, epoch));
      lock.notifyAll();
    }
  }

  /**
   * Group commit: take everything appended on the direct path, one fsync, then hand it to the
   * producer in spool order; checkpoint the cursor now and then.
   */
  private void syncLoop() {
    long lastCheckpoint = System.nanoTime();
    while (true) {
      List<Pending> batch = new ArrayList<>();
      boolean stop;
      try {
        synchronized (lock) {
          if (toSend.isEmpty() && !closed) {
            lock.wait(CHECKPOINT_MILLIS);
          }
          batch.addAll(toSend);
          toSend.clear();
          stop = closed && batch.isEmpty();
        }
        if (!batch.isEmpty()) {
          spool.sync(); // on disk BEFORE Kafka may see it
          for (Pending p : batch) {
            sendDirect(p);
          }
        }
        if (stop || System.nanoTime() - lastCheckpoint >= CHECKPOINT_MILLIS * 1_000_000) {
          spool.checkpoint();
          lastCheckpoint = System.nanoTime();
        }
        if (stop) {
          return;
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) { // disk trouble: the records stay in the spool for the resender
        if (closed) {
          return;
        }
        log.error("Usage spool sync failed: {}", e.toString());
        synchronized (lock) {
          toBacklog(e, epoch);
        }
        sleepQuietly();
      }
    }
  }

  private void sendDirect(Pending p) {
    InFlight f = new InFlight(p.next());
    long sentEpoch;
    synchronized (lock) {
      if (spooling || p.epoch() != epoch) {
        return; // a failure came first: the resender sends it from the spool
      }
      inFlight.add(f);
      sentEpoch = epoch;
    }
    try {
      producer.send(
          record(p.event(), p.value()),
          (meta, error) -> {
            if (error == null) {
              published.increment();
              acked(f, sentEpoch);
            } else {
              toBacklog(error, sentEpoch);
            }
          });
    } catch (RuntimeException e) { // no metadata within max-block, producer closed, buffer full
      toBacklog(e, sentEpoch);
    }
  }

  /** Moves the spool cursor over the acknowledged prefix of the direct sends. */
  private void acked(InFlight f, long sentEpoch) {
    synchronized (lock) {
      if (sentEpoch != epoch) {
        return; // the backlog took over meanwhile; the resender moves the cursor
      }
      f.acked = true;
      UsageSpool.Position upTo = null;
      int n = 0;
      while (!inFlight.isEmpty() && inFlight.peekFirst().acked) {
        upTo = inFlight.pollFirst().next;
        n++;
      }
      if (upTo != null && !closedSpool) {
        spool.ack(upTo, n);
      }
    }
  }

  /**
   * Kafka did not take a record sent in {@code sentEpoch}: from now on everything after the cursor
   * goes by the resender. A failure from an older epoch (before the backlog last drained) is stale.
   */
  private void toBacklog(Throwable error, long sentEpoch) {
    synchronized (lock) {
      if (spooling || sentEpoch != epoch) {
        return;
      }
      log.warn(
          "Kafka unreachable for usage events ({}); holding them in the disk spool",
          error.toString());
      spooling = true;
      epoch++;
      spooled.increment(spool.pendingRecords());
      toSend.clear();
      inFlight.clear();
      lock.notifyAll();
    }
  }

  private ProducerRecord<String, byte[]> record(UsageEvent event, byte[] value) {
    ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, event.getTenantId(), value);
    String trace = event.getTraceId();
    if (trace.length() == 32 && trace.matches("[0-9a-f]{32}") && !trace.matches("0+")) {
      byte[] span = new byte[8];
      ThreadLocalRandom.current().nextBytes(span);
      span[0] |= 1; // never all-zero
      r.headers()
          .add(
              "traceparent",
              ("00-" + trace + "-" + HexFormat.of().formatHex(span) + "-01")
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
          epoch++;
          log.info("Usage spool drained; publishing directly to Kafka again");
        }
      }
      return true;
    }
    spool.sync(); // records appended in backlog mode: on disk before Kafka may see them
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
      boolean fatal =
          !(cause instanceof RetriableException)
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
      event =
          UsageEvent.getDefaultInstance(); // cannot happen: we wrote it; billing dead-letters it
    }
    return producer.send(record(event, e.payload()));
  }

  /**
   * Replaces the producer; records still in the old one fail into the spool through their
   * callbacks.
   */
  private void renewProducer(Throwable cause) {
    log.warn(
        "Recreating the usage producer after {} failed resend attempts ({})",
        consecutiveFailures,
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

  /** Events in the spool not yet acknowledged by Kafka (in flight or waiting in the backlog). */
  public long spooledPending() {
    return spool.pendingRecords();
  }

  /** True while events wait in the spool for Kafka (backlog mode) instead of going straight out. */
  public boolean isSpooling() {
    return spooling;
  }

  /**
   * Hands what was appended to the producer, waits for its acks (up to the delivery timeout) and
   * persists the cursor. Whatever stays unacknowledged is still in the spool and is re-sent at the
   * next start, so a graceful stop loses nothing.
   */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    resender.interrupt();
    try {
      syncer.join(deliveryTimeout.toMillis() + 5_000);
      resender.join(deliveryTimeout.toMillis() + 5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(deliveryTimeout.plusSeconds(1));
    synchronized (lock) {
      if (!spooling
          && !spool.isEmpty()) { // Kafka did not ack them in time: they wait for the next start
        spooled.increment(spool.pendingRecords());
      }
      closedSpool = true;
      spool.close(); // last checkpoint: the acks the producer got while closing
    }
  }
}
