package org.glmmaas.gateway.auth;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a compacted topic from the beginning on every start (no consumer group: every gateway
 * replica needs every record) and hands each value to a callback, on one daemon thread. When Kafka
 * is unreachable (at start or later) it retries with a backoff of 1 s doubling to 30 s and reads
 * the topic from the beginning again, so it never stops for good.
 */
public final class TopicTailer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TopicTailer.class);

  private final String topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Consumer<byte[]> handler;
  private final Thread thread;
  private volatile boolean running = true;

  public TopicTailer(String bootstrapServers, String topic, Consumer<byte[]> handler) {
    this.topic = topic;
    this.handler = handler;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    this.consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = Thread.ofPlatform().daemon().name("tail-" + topic).unstarted(this::run);
  }

  public TopicTailer start() {
    thread.start();
    return this;
  }

  private void run() {
    long backoffMs = 1000;
    try {
      while (running) {
        try {
          tail();
        } catch (WakeupException e) {
          return; // closing
        } catch (RuntimeException e) {
          if (!running) {
            return;
          }
          // Kafka down (at start or later): keep trying, from the beginning of the topic again
          // (compacted, and every handler is idempotent), so no record is missed once it is back
          log.warn("tailing {} failed ({}); retrying in {} ms", topic, e.toString(), backoffMs);
          Thread.sleep(backoffMs);
          backoffMs = Math.min(30_000, backoffMs * 2);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  private void tail() throws InterruptedException {
    List<TopicPartition> parts = List.of();
    while (running && parts.isEmpty()) {
      parts =
          consumer.partitionsFor(topic, Duration.ofSeconds(5)).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      if (parts.isEmpty()) {
        Thread.sleep(1000);
      }
    }
    consumer.assign(parts);
    consumer.seekToBeginning(parts);
    while (running) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
        if (r.value() == null) {
          continue;
        }
        try {
          handler.accept(r.value());
        } catch (RuntimeException e) {
          log.warn(
              "skipping an unreadable record on {} at offset {}: {}",
              topic,
              r.offset(),
              e.toString());
        }
      }
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
  }
}
