package org.glmmaas.auth.events;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.glmmaas.auth.AuthProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Tells gateways about every committed key or tenant change: a {@code KeyEvent} (protobuf bytes) on
 * the compacted topic {@code glm.key-events.v1}, record key = key id (tenant id for {@code
 * TENANT_UPDATED}). Active when {@code spring.kafka.bootstrap-servers} is set and {@code
 * glm.auth.key-events.enabled} is not false. A failed send is logged, never fails the admin call:
 * the database is the truth and gateways fall back on the principal's short cache TTL.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression(
    "${glm.auth.key-events.enabled:true} and !'${spring.kafka.bootstrap-servers:}'.isEmpty()")
public class KafkaKeyEventPublisher {

  private static final Logger log = LoggerFactory.getLogger(KafkaKeyEventPublisher.class);

  @Bean
  NewTopic keyEventsTopic(AuthProperties props) {
    // partitions and replication from the broker's defaults (num.partitions,
    // default.replication.factor)
    return new NewTopic(props.keyEvents().topic(), Optional.empty(), Optional.empty())
        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
  }

  @Bean
  KafkaTemplate<String, byte[]> keyEventsTemplate(KafkaProperties kafka) {
    Map<String, Object> config = new HashMap<>(kafka.buildProducerProperties());
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(config));
  }

  @Bean
  Sender keyEventSender(KafkaTemplate<String, byte[]> keyEventsTemplate, AuthProperties props) {
    return new Sender(keyEventsTemplate, props.keyEvents().topic());
  }

  /**
   * Sends after commit, off the admin request thread (a broker that is down must not hold an admin
   * call for {@code max.block.ms}), on one thread so events keep their order.
   */
  public static final class Sender implements AutoCloseable {
    private final KafkaTemplate<String, byte[]> template;
    private final String topic;
    private final ExecutorService executor =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("key-events").factory());

    Sender(KafkaTemplate<String, byte[]> template, String topic) {
      this.template = template;
      this.topic = topic;
    }

    @TransactionalEventListener(fallbackExecution = true)
    public void onChange(KeyChange change) {
      executor.execute(() -> send(change));
    }

    @Override
    public void close() throws InterruptedException {
      executor.shutdown();
      executor.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    private void send(KeyChange change) {
      try {
        template
            .send(topic, change.recordKey(), change.toProto().toByteArray())
            .whenComplete(
                (r, e) -> {
                  if (e != null) {
                    log.warn(
                        "KeyEvent {} for {} not published to {}: {}",
                        change.kind(),
                        change.recordKey(),
                        topic,
                        e.toString());
                  }
                });
      } catch (RuntimeException e) {
        log.warn(
            "KeyEvent {} for {} not published to {}: {}",
            change.kind(),
            change.recordKey(),
            topic,
            e.toString());
      }
    }
  }
}
