package org.glmmaas.billing.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.platform.test.TestKafka;
import org.glmmaas.platform.test.TestPostgres;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One real PostgreSQL (the platform's {@link TestPostgres}) and one real Kafka broker (KRaft,
 * in-process) per test JVM.
 */
public final class TestInfra {

  private static EmbeddedKafkaKraftBroker kafka;

  private TestInfra() {}

  /** The platform's one embedded PostgreSQL of this test JVM. */
  public static EmbeddedPostgres postgres() {
    return TestPostgres.instance();
  }

  public static String jdbcUrl() {
    return TestPostgres.url();
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

  /** Reads {@code topic} from the beginning until {@code done} holds, or 60 s pass. */
  public static List<ConsumerRecord<String, byte[]>> readUntil(
      String bootstrap, String topic, Predicate<List<ConsumerRecord<String, byte[]>>> done) {
    return TestKafka.readUntil(bootstrap, topic, done);
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
