package org.glmmaas.platform.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reading what a service wrote to a Kafka topic, for tests (the services' keys are strings, their
 * values protobuf bytes). The broker is the test's own (an in-process KRaft broker).
 */
public final class TestKafka {

  /** How long {@link #readUntil} waits for its condition. */
  public static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

  private TestKafka() {}

  /**
   * A consumer that reads from the beginning of the topics it subscribes to, in a group of its own
   * that commits nothing: it neither shares nor moves any service's offsets.
   */
  public static KafkaConsumer<String, byte[]> consumerFromStart(String bootstrap) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG,
            "test-reader-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false),
        new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * Reads {@code topic} from the beginning until {@code done} holds for what was read, or {@link
   * #READ_TIMEOUT} passes; returns what was read either way.
   */
  public static List<ConsumerRecord<String, byte[]>> readUntil(
      String bootstrap, String topic, Predicate<List<ConsumerRecord<String, byte[]>>> done) {
    List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = consumerFromStart(bootstrap)) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
      while (!done.test(seen) && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(seen::add);
      }
    }
    return seen;
  }
}
