package org.glmmaas.billing.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/** One real PostgreSQL (zonky) and one real Kafka broker (KRaft, in-process) per test JVM. */
public final class TestInfra {

  private static EmbeddedPostgres postgres;
  private static EmbeddedKafkaKraftBroker kafka;

  private TestInfra() {}

  public static synchronized EmbeddedPostgres postgres() {
    if (postgres == null) {
      try {
        postgres = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return postgres;
  }

  public static String jdbcUrl() {
    return postgres().getJdbcUrl("postgres", "postgres");
  }

  public static synchronized EmbeddedKafkaKraftBroker kafka() {
    if (kafka == null) {
      kafka = new EmbeddedKafkaKraftBroker(1, 3);
      kafka.afterPropertiesSet();
    }
    return kafka;
  }

  public static String bootstrap() {
    return kafka().getBrokersAsString();
  }

  /**
   * Creates a topic before anything is produced to it: an idempotent producer racing the broker's
   * auto-creation can be left retrying its first batch with OutOfOrderSequence.
   */
  public static void createTopic(String topic, int partitions) {
    kafka().addTopics(new org.apache.kafka.clients.admin.NewTopic(topic, partitions, (short) 1));
  }

  public static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.LINGER_MS_CONFIG,
            5),
        new StringSerializer(),
        new ByteArraySerializer());
  }

  /**
   * Reads {@code topic} from the beginning until {@code done} holds for what was read, or 60 s
   * pass.
   */
  public static List<ConsumerRecord<String, byte[]>> readUntil(
      String bootstrap, String topic, Predicate<List<ConsumerRecord<String, byte[]>>> done) {
    List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
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
            new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!done.test(seen) && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(seen::add);
      }
    }
    return seen;
  }

  /** Polls {@code condition} every 100 ms for up to {@code timeout}; fails with {@code what}. */
  public static void await(
      String what, Duration timeout, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what);
      }
    }
  }
}
