package org.glmmaas.auth.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.glmmaas.auth.support.AuthServiceTestBase;
import org.glmmaas.proto.auth.v1.AuthFailureReason;
import org.glmmaas.proto.auth.v1.KeyEvent;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import tools.jackson.databind.JsonNode;

/** Revocation reaches gateways within seconds: KeyEvents on the compacted topic, key = key id. */
@EmbeddedKafka(partitions = 1, bootstrapServersProperty = "spring.kafka.bootstrap-servers")
class KeyEventsKafkaTest extends AuthServiceTestBase {

  static final String TOPIC = "glm.key-events.v1";

  @Autowired EmbeddedKafkaBroker broker;

  @Test
  void everyKeyAndTenantChangeIsPublishedOnTheCompactedTopic() throws Exception {
    String tenant = newTenant();
    JsonNode key = newKey(tenant);
    String keyId = key.get("key_id").stringValue();
    admin.ok("PATCH", "/admin/v1/keys/" + keyId, Map.of("max_concurrency", 3), 200);
    admin.ok("POST", "/admin/v1/keys/" + keyId + "/rotate", null, 200);
    admin.ok("POST", "/admin/v1/keys/" + keyId + "/revoke", null, 200);
    admin.ok("PATCH", "/admin/v1/tenants/" + tenant, Map.of("status", "SUSPENDED"), 200);
    assertThat(authenticate(key.get("api_key").stringValue()).getFailure().getReason())
        .isIn(AuthFailureReason.BAD_SIGNATURE, AuthFailureReason.REVOKED);

    List<ConsumerRecord<String, byte[]>> mine = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.getBrokersAsString(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class))) {
      consumer.subscribe(List.of(TOPIC));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (mine.size() < 5 && System.nanoTime() < deadline) {
        consumer
            .poll(Duration.ofMillis(500))
            .forEach(
                r -> {
                  if (keyId.equals(r.key()) || tenant.equals(r.key())) {
                    mine.add(r);
                  }
                });
      }
    }
    List<String> seen = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : mine) {
      KeyEvent e = KeyEvent.parseFrom(r.value());
      assertThat(e.getTenantId()).isEqualTo(tenant);
      assertThat(e.getAtUnixMs()).isPositive();
      if (e.getKind() == KeyEvent.Kind.TENANT_UPDATED) {
        assertThat(r.key()).isEqualTo(tenant);
        assertThat(e.getKeyId()).isEmpty();
      } else {
        assertThat(r.key()).isEqualTo(keyId);
        assertThat(e.getKeyId()).isEqualTo(keyId);
      }
      seen.add(e.getKind().name());
    }
    assertThat(seen).containsExactly("CREATED", "UPDATED", "ROTATED", "REVOKED", "TENANT_UPDATED");

    try (AdminClient kafkaAdmin =
        AdminClient.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()))) {
      ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
      String policy =
          kafkaAdmin
              .describeConfigs(Set.of(topic))
              .all()
              .get()
              .get(topic)
              .get("cleanup.policy")
              .value();
      assertThat(policy).isEqualTo("compact");
    }
  }
}
