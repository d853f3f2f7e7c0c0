package org.glmmaas.gateway.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.gateway.error.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The topic {@code glm.batch-requests.v1}: one record per validated line, keyed by {@code <batch
 * id>/<custom_id>} so one batch's lines spread over the partitions (and so over the consumers of
 * the group). A record points into the batch's input copy; it holds no prompt.
 */
public final class BatchQueue implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BatchQueue.class);
  public static final String TOPIC = "glm.batch-requests.v1";

  /** One line to run. */
  public record Item(String tenant, String batchId, String customId, long offset, int length) {
    String key() {
      return batchId + "/" + customId;
    }

    String json() {
      ObjectNode n = Json.object();
      n.put("tenant_id", tenant);
      n.put("batch_id", batchId);
      n.put("custom_id", customId);
      n.put("offset", offset);
      n.put("length", length);
      return Json.write(n);
    }

    static Item parse(String json) {
      JsonNode n = Json.MAPPER.readTree(json);
      return new Item(
          n.get("tenant_id").asString(),
          n.get("batch_id").asString(),
          n.get("custom_id").asString(),
          n.get("offset").asLong(),
          n.get("length").asInt());
    }
  }

  private final KafkaProducer<String, String> producer;
  private final java.util.concurrent.CompletableFuture<Void> topicAttempted =
      new java.util.concurrent.CompletableFuture<>();

  /**
   * Connects, and creates the topic ({@code partitions}) when it does not exist yet, in the
   * background: a gateway whose Kafka is down at start still starts at once (it waited 30 s in its
   * constructor before); {@link #enqueue} waits for the attempt.
   */
  public BatchQueue(String bootstrap, int partitions) {
    this(bootstrap, partitions, true);
  }

  /** {@code createTopic} false: no attempt to create the topic (tests: as if it had been made). */
  BatchQueue(String bootstrap, int partitions, boolean createTopic) {
    if (!createTopic) {
      topicAttempted.complete(null);
    } else {
      Thread.ofVirtual()
          .name("batch-topic")
          .start(
              () -> {
                try {
                  createTopic(bootstrap, partitions);
                } finally {
                  topicAttempted.complete(null);
                }
              });
    }
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                (int) WAIT.toMillis()),
            new StringSerializer(),
            new StringSerializer());
  }

  private static void createTopic(String bootstrap, int partitions) {
    // metadata.recovery.strategy=none: with the default (rebootstrap) an admin client whose broker
    // is unreachable re-bootstraps in a tight loop, logging each time (about 800 lines a second
    // for the 30 s of this attempt when Kafka is down at start); without it, it retries with
    // backoff
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                AdminClientConfig.METADATA_RECOVERY_STRATEGY_CONFIG,
                "none"))) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      log.info("created topic {} with {} partitions", TOPIC, partitions);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        log.warn("creating topic {} failed: {}", TOPIC, e.getCause().toString());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("creating topic {} failed: {}", TOPIC, e.toString());
    }
  }

  /**
   * How long one send may wait for the topic's metadata, and (twice this) how long {@link #enqueue}
   * waits for the start-up attempt to create the topic: a create call answers "unavailable" within
   * about 10 s when Kafka is down, instead of hanging (it waited up to 35 s for the topic attempt
   * and then 10 s for every line, one after the other). The topic wait is the longer one so that a
   * slow but live broker just after start is not taken for a dead one.
   */
  static final Duration WAIT = Duration.ofSeconds(5);

  /** Kafka did not answer: nothing of the batch was sent. */
  public static final class Unreachable extends java.io.IOException {
    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Sends every item and waits until the broker has them all. Blocks. */
  public void enqueue(List<Item> items) throws Exception {
    try {
      // the start-up attempt to create the topic with its partitions comes first; still pending
      // after this long means Kafka has not answered since start: sending would only block too
      topicAttempted.get(2 * WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new Unreachable("Kafka has not answered the creation of topic " + TOPIC, e);
    }
    List<Future<RecordMetadata>> sent = new ArrayList<>(items.size());
    for (Item i : items) {
      Future<RecordMetadata> f = producer.send(new ProducerRecord<>(TOPIC, i.key(), i.json()));
      if (f.isDone()) {
        // failed at once: no metadata within max.block.ms (Kafka unreachable), or a bad record;
        // every further line would wait as long again
        try {
          f.get();
        } catch (ExecutionException e) {
          throw new Unreachable("Kafka did not take line " + i.key(), e.getCause());
        }
      }
      sent.add(f);
    }
    // no flush(): it has no time limit (a broker lost mid-way held it for the delivery timeout,
    // 2 min); the records go out after linger.ms and the waits below are bounded
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (Future<RecordMetadata> f : sent) {
      f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
